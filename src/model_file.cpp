#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "mapped_file.h"
#include "model_file_internal.h"
#include "prefault.h"
#include "sentemb/errors.h"
#include "sentemb/parameters.h"

namespace sentemb {

Model Model::create(ModelConfig config, std::string tokenizer_model, std::uint64_t seed,
                    float token_embedding_std) {
  config.validate();
  Model m;
  m.config = config;
  m.tokenizer_model = std::move(tokenizer_model);
  assign_prefaulted(m.parameters, config.parameter_count(), 0.0f);
  init_parameters(config, m.parameters.data(), seed, token_embedding_std);
  return m;
}

TensorFile model_to_tensor_file(const Model& model) {
  TensorFile file;
  file.header =
      nlohmann::json{{"kind", "model"}, {"config", nlohmann::json::parse(model.config.to_json())}}
          .dump();
  file.blob = model.tokenizer_model;
  for (const auto& spec : parameter_specs(model.config)) {
    const float* p = model.parameters.data() + spec.offset;
    file.tensors.push_back({spec.name, spec.shape, std::vector<float>(p, p + spec.size)});
  }
  return file;
}

namespace {

// JSON nesting depth outside strings; the parser recurses, so a hostile header
// nested thousands deep must be refused before parsing.
int json_depth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (ch == '\\')
        escaped = true;
      else if (ch == '"')
        in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return max_depth;
}

// The config and tokenizer from a model file's header and blob, checked.
Model model_header(const TensorFileView& file, const std::string& source) {
  if (json_depth(file.header) > 32)
    throw ModelFileError(fmt::format("{}: corrupt header: JSON nested too deeply", source));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.header.begin(), file.header.end());
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("{}: unreadable header: {}", source, e.what()));
  }
  if (!header.contains("config"))
    throw ModelFileError(fmt::format("{}: header has no model config", source));
  Model model;
  try {
    model.config = ModelConfig::from_json(header["config"].dump());
  } catch (const ModelFileError& e) {
    throw ModelFileError(fmt::format("{}: {}", source, e.what()));
  }
  model.tokenizer_model = std::string(file.blob);
  if (model.tokenizer_model.empty())
    throw ModelFileError(fmt::format("{}: the model file holds no tokenizer", source));
  return model;
}

// The file's tensor for each of parameter_specs(config), in that order: every one
// present with its shape, and nothing else but optimiser state or averaged weights.
std::vector<const TensorView*> parameter_views(const TensorFileView& file,
                                               const ModelConfig& config,
                                               const std::string& source) {
  // The config must not demand more parameters than the file holds (checked
  // before allocating: a small file cannot ask for gigabytes).
  std::uint64_t floats_in_file = 0;
  for (const auto& t : file.tensors) floats_in_file += t.count;
  // Small mismatches are reported tensor by tensor below, by name.
  if (static_cast<std::uint64_t>(config.parameter_count()) > 2 * floats_in_file + (1u << 20))
    throw ModelFileError(fmt::format("{}: the config needs {} parameters but the file holds {}",
                                     source, config.parameter_count(), floats_in_file));
  const auto specs = parameter_specs(config);
  std::vector<const TensorView*> views;
  for (const auto& spec : specs) {
    const TensorView* t = file.find(spec.name);
    if (!t) throw ModelFileError(fmt::format("{}: missing tensor '{}'", source, spec.name));
    if (t->shape != spec.shape)
      throw ModelFileError(fmt::format("{}: tensor '{}' has shape [{}], the config needs [{}]",
                                       source, spec.name, fmt::join(t->shape, ", "),
                                       fmt::join(spec.shape, ", ")));
    views.push_back(t);
  }
  for (const auto& t : file.tensors) {
    const bool known = std::any_of(specs.begin(), specs.end(),
                                   [&](const TensorSpec& s) { return s.name == t.name; });
    // Checkpoints add optimiser state ("adam.*") and averaged weights ("ema.*").
    if (!known && t.name.rfind("adam.", 0) != 0 && t.name.rfind("ema.", 0) != 0)
      throw ModelFileError(fmt::format("{}: unexpected tensor '{}'", source, t.name));
  }
  return views;
}

// Copies the views (in parameter_specs order) into a new arena.
std::vector<float> copy_to_arena(const std::vector<const TensorView*>& views,
                                 const ModelConfig& config) {
  std::vector<float> arena;
  assign_prefaulted(arena, config.parameter_count(), 0.0f);
  const auto specs = parameter_specs(config);
  for (std::size_t i = 0; i < specs.size(); ++i) views[i]->copy_to(arena.data() + specs[i].offset);
  return arena;
}

}  // namespace

Model model_from_tensor_view(const TensorFileView& file, const std::string& source) {
  Model model = model_header(file, source);
  model.parameters = copy_to_arena(parameter_views(file, model.config, source), model.config);
  return model;
}

MappedModel MappedModel::from_model(Model model) {
  MappedModel m;
  m.config = model.config;
  m.tokenizer_model = std::move(model.tokenizer_model);
  m.arena = std::move(model.parameters);
  m.tensors = bind_parameters(m.config, m.arena.data());
  return m;
}

bool in_place_aligned(const void* data) {
  return reinterpret_cast<std::uintptr_t>(data) % kTensorAlignment == 0;
}

MappedModel map_model(const std::string& path) {
  auto file = std::make_unique<const MappedFile>(path);
  const TensorFileView view = view_tensor_file(file->bytes(), path);
  Model header = model_header(view, path);
  const auto views = parameter_views(view, header.config, path);
  const bool aligned = std::all_of(views.begin(), views.end(),
                                   [](const TensorView* t) { return in_place_aligned(t->data); });
  if (!aligned) {  // a version 1 file: its tensors sit wherever their names left them
    header.parameters = copy_to_arena(views, header.config);
    return MappedModel::from_model(std::move(header));
  }
  MappedModel m;
  m.config = header.config;
  m.tokenizer_model = std::move(header.tokenizer_model);
  // Each tensor points into the file (views are in parameter_specs order).
  std::vector<float*> where;
  for (const TensorView* t : views)
    where.push_back(reinterpret_cast<float*>(const_cast<char*>(t->data)));
  m.tensors = bind_parameters(m.config, where);
  m.file = std::move(file);
  return m;
}

Model model_from_tensor_file(const TensorFile& file, const std::string& source) {
  return model_from_tensor_view(view_of(file), source);
}

Model load_model(const std::string& path) {
  const MappedFile file(path);
  return model_from_tensor_view(view_tensor_file(file.bytes(), path), path);
}

void save_model(const Model& model, const std::string& path) {
  write_file_atomically(path, serialize_tensor_file(model_to_tensor_file(model)));
}

}  // namespace sentemb
