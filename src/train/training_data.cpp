#include "train/training_data.h"

#include <fmt/format.h>

#include <unordered_map>

#include "sentemb/errors.h"

namespace sentemb::train {

namespace {

std::vector<Record> read_source(const TrainSource& source, OnBadLine on_bad_line,
                                const WarningSink& on_warning) {
  ReaderOptions options;
  options.on_bad_line = on_bad_line;
  CorpusReader reader(source.path, source.format, options);
  std::vector<Record> records;
  Record r;
  std::size_t empty_lines = 0;
  while (reader.next(r)) {
    // A text file's empty line is a record for `encode` (an empty sentence), but no
    // training example: an error, or skipped and counted with --skip-bad-lines.
    if (source.format == CorpusFormat::kText && r.a.empty()) {
      if (on_bad_line == OnBadLine::kFail)
        throw InputError(source.path, r.line, "empty line (no sentence to train on)");
      ++empty_lines;
      continue;
    }
    records.push_back(std::move(r));
  }
  if (reader.lines_skipped() > 0 && on_warning) on_warning(reader.skip_summary());
  if (empty_lines > 0 && on_warning)
    on_warning(fmt::format("{}: skipped {} empty line{}", source.path, empty_lines,
                           empty_lines == 1 ? "" : "s"));
  if (records.empty()) throw InputError(source.path, 0, "no training examples in the file");
  return records;
}

}  // namespace

std::vector<std::string> read_training_text(const TrainOptions& options) {
  std::vector<std::string> text;
  for (const auto& source : options.sources)
    for (auto& r : read_source(source, options.on_bad_line, {})) {
      for (std::string* field : {&r.a, &r.b, &r.c})
        if (!field->empty()) text.push_back(std::move(*field));
    }
  return text;
}

std::vector<SourceData> load_training_data(const TrainOptions& options, const Tokenizer& tokenizer,
                                           int max_len, int threads,
                                           const WarningSink& on_warning) {
  // Group ids by text: captions of one image are paraphrases, never negatives.
  std::unordered_map<std::string, std::int64_t> group_of_text;
  std::unordered_map<std::string, std::int64_t> group_ids;
  for (const auto& path : options.group_files) {
    ReaderOptions ro;
    ro.on_bad_line = options.on_bad_line;
    CorpusReader reader(path, CorpusFormat::kGroups, ro);
    Record r;
    while (reader.next(r)) {
      auto [it, inserted] =
          group_ids.emplace(path + '\t' + r.group, static_cast<std::int64_t>(group_ids.size()));
      group_of_text.emplace(r.a, it->second);
    }
    if (reader.lines_skipped() > 0 && on_warning) on_warning(reader.skip_summary());
  }

  std::vector<SourceData> data;
  for (const auto& source : options.sources) {
    auto records = read_source(source, options.on_bad_line, on_warning);
    std::vector<std::string> texts;
    const bool triplets = source.format == CorpusFormat::kTriplets;
    const bool text = source.format == CorpusFormat::kText;  // the positive is the anchor
    for (const auto& r : records) {
      texts.push_back(r.a);
      if (!text) texts.push_back(r.b);
      if (triplets) texts.push_back(r.c);
    }
    auto ids = tokenizer.encode_batch(texts, max_len, threads);
    SourceData sd;
    sd.source = source;
    const std::size_t per = text ? 1 : triplets ? 3 : 2;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      Example e;
      e.anchor = std::move(ids[i * per]);
      if (!text) e.positive = std::move(ids[i * per + 1]);
      if (triplets) e.negative = std::move(ids[i * per + 2]);
      e.label = r.score;
      BatchItemKey key;
      key.n_texts = static_cast<int>(per);
      key.text_hash[0] = hash_text(r.a);
      if (!text) key.text_hash[1] = hash_text(r.b);
      if (triplets) key.text_hash[2] = hash_text(r.c);
      if (auto it = group_of_text.find(r.a); it != group_of_text.end())
        e.group = it->second;
      else if (auto it2 = group_of_text.find(r.b); it2 != group_of_text.end())
        e.group = it2->second;
      key.group = e.group;
      sd.examples.push_back(std::move(e));
      sd.keys.push_back(key);
    }
    data.push_back(std::move(sd));
  }
  return data;
}

}  // namespace sentemb::train
