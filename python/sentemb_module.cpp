// The Python module `sentemb`: a thin binding of the libraries (README, "Python").
// Every computation is a library call; this file converts arguments and results,
// releases the GIL around encoding and training, and maps errors to exceptions:
// UsageError → ValueError, IoError → OSError, every other sentemb::Error →
// sentemb.Error (a RuntimeError) or its subclasses ModelFileError, InputError and
// NumericError.
#include <fmt/format.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/model_info.h"
#include "sentemb/pair_scoring.h"
#include "sentemb/similarity.h"
#include "sentemb/train/trainer.h"
#include "sentemb/version.h"

namespace py = pybind11;

namespace sentemb::python {
namespace {

// An Encoder and the lock that keeps it to one thread at a time (encoder.h): with
// the GIL released, Python threads may call one Model concurrently.
class PyModel {
 public:
  PyModel(const std::string& path, const std::string& precision, int threads, int batch_size)
      : encoder_(load(path, precision, threads, batch_size)) {}

  int dim() const { return encoder_.config().dim; }
  int max_len() const { return encoder_.config().max_len; }
  py::object config() const {
    return py::module_::import("json").attr("loads")(
        model_info_json(encoder_.config(), encoder_.tokenizer()));
  }
  std::vector<int> tokenize(const std::string& text) const {
    return encoder_.tokenizer().encode(text, encoder_.config().max_len);
  }

  // (N, dim or k) float32, encoded into the array itself when k is the full width.
  py::object encode(const py::object& sentences, int batch_size, std::optional<bool> normalize,
                    std::optional<int> dim, std::optional<bool> normalize_embeddings,
                    bool /*convert_to_numpy: the result is always a numpy array*/,
                    const py::object& /*show_progress_bar: ignored*/) {
    if (normalize && normalize_embeddings && *normalize != *normalize_embeddings)
      throw UsageError("normalize and normalize_embeddings disagree");
    if (!normalize) normalize = normalize_embeddings;
    const bool single = py::isinstance<py::str>(sentences);
    const std::vector<std::string> texts =
        single ? std::vector<std::string>{sentences.cast<std::string>()}
               : sentences.cast<std::vector<std::string>>();
    const int width = encoder_.config().dim, k = dim.value_or(width);
    if (k < 1 || k > width)
      throw UsageError(fmt::format("dim {} must be in 1..{}, the model's width", k, width));
    const auto n = static_cast<py::ssize_t>(texts.size());
    py::array_t<float> result({n, static_cast<py::ssize_t>(k)});
    float* out = result.mutable_data();
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      encoder_.set_batch_size(batch_size);
      encoder_.set_normalize(normalize);
      encoder_.set_dim(k);
      encoder_.encode(texts, out);  // (N, k): Matryoshka prefixes come from the encoder
    }
    if (single) return result[py::int_(0)];
    return std::move(result);
  }

  // cos(a, b) of two sentences (a float), or of each pair of two equal-length lists.
  py::object similarity(const py::object& a, const py::object& b) {
    const bool single = py::isinstance<py::str>(a) && py::isinstance<py::str>(b);
    if (!single && (py::isinstance<py::str>(a) || py::isinstance<py::str>(b)))
      throw UsageError("similarity takes two sentences or two lists of sentences");
    const auto as = single ? std::vector<std::string>{a.cast<std::string>()}
                           : a.cast<std::vector<std::string>>();
    const auto bs = single ? std::vector<std::string>{b.cast<std::string>()}
                           : b.cast<std::vector<std::string>>();
    std::vector<double> cosines;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      cosines = pair_cosines(encoder_, as, bs);
    }
    if (single) return py::float_(cosines[0]);
    return py::array_t<double>(static_cast<py::ssize_t>(cosines.size()), cosines.data());
  }

 private:
  static Encoder load(const std::string& path, const std::string& precision, int threads,
                      int batch_size) {
    if (threads < 0) throw UsageError("threads must be >= 0 (0: all cores)");
    EncoderOptions options;
    options.precision = precision_from_string(precision);
    options.threads = threads;
    options.batch_size = batch_size;
    py::gil_scoped_release release;
    return Encoder::load(path, options);
  }

  Encoder encoder_;
  std::mutex mutex_;
};

// The keyword arguments of sentemb.train: the `sentemb train` options, dashes as
// underscores, onto TrainOptions (docs: `sentemb train --help`).
TrainOptions train_options(const py::kwargs& kwargs) {
  TrainOptions o;
  std::vector<std::string> pairs, triplets, labeled, text;
  std::vector<double> weights;
  std::string pooling = "mean";
  bool size_given = false;
  for (const auto& item : kwargs) {
    const std::string key = item.first.cast<std::string>();
    const py::handle v = item.second;
    auto size = [&](int& field) {
      field = v.cast<int>();
      size_given = true;
    };
    // Unset optionals: None leaves the default.
    if (v.is_none()) continue;
    if (key == "pairs")
      pairs = v.cast<std::vector<std::string>>();
    else if (key == "triplets")
      triplets = v.cast<std::vector<std::string>>();
    else if (key == "labeled")
      labeled = v.cast<std::vector<std::string>>();
    else if (key == "text")
      text = v.cast<std::vector<std::string>>();
    else if (key == "groups")
      o.group_files = v.cast<std::vector<std::string>>();
    else if (key == "weights")
      weights = v.cast<std::vector<double>>();
    else if (key == "skip_bad_lines")
      o.on_bad_line = v.cast<bool>() ? OnBadLine::kSkip : OnBadLine::kFail;
    else if (key == "out")
      o.out = v.cast<std::string>();
    else if (key == "init")
      o.init = v.cast<std::string>();
    else if (key == "tokenizer")
      o.tokenizer = v.cast<std::string>();
    else if (key == "vocab_size")
      o.vocab_size = v.cast<int>();
    else if (key == "lowercase")
      o.lowercase = v.cast<bool>();
    else if (key == "layers")
      size(o.model.layers);
    else if (key == "dim")
      size(o.model.dim);
    else if (key == "heads")
      size(o.model.heads);
    else if (key == "ffn_dim")
      size(o.model.ffn_dim);
    else if (key == "max_len")
      size(o.model.max_len);
    else if (key == "pooling")
      pooling = v.cast<std::string>(), size_given = true;
    else if (key == "normalize")
      o.model.normalize = v.cast<bool>(), size_given = true;
    else if (key == "init_token_std")
      o.token_embedding_std = v.cast<float>(), size_given = true;
    else if (key == "loss")
      o.loss = v.cast<std::string>();
    else if (key == "temperature")
      o.temperature = v.cast<float>();
    else if (key == "symmetric")
      o.symmetric = v.cast<bool>();
    else if (key == "margin")
      o.margin = v.cast<float>();
    else if (key == "distance")
      o.distance = v.cast<std::string>();
    else if (key == "batch_hard")
      o.batch_hard = v.cast<bool>();
    else if (key == "contrastive_margin")
      o.contrastive_margin = v.cast<float>();
    else if (key == "matryoshka_dims")
      o.matryoshka_dims = v.cast<std::vector<int>>();
    else if (key == "batch")
      o.batch = v.cast<int>();
    else if (key == "mini_batch")
      o.mini_batch = v.cast<int>();
    else if (key == "lr")
      o.lr = v.cast<float>();
    else if (key == "warmup")
      o.warmup = v.cast<float>();
    else if (key == "decay")
      o.decay = v.cast<std::string>();
    else if (key == "weight_decay")
      o.weight_decay = v.cast<float>();
    else if (key == "dropout")
      o.dropout = v.cast<float>();
    else if (key == "augment")
      o.augment = v.cast<std::string>();
    else if (key == "clip")
      o.clip = v.cast<float>();
    else if (key == "ema")
      o.ema = v.cast<float>();
    else if (key == "precision") {
      const auto p = v.cast<std::string>();
      if (p != "fp32" && p != "bf16")
        throw UsageError("precision must be fp32 or bf16, got '" + p + "'");
      o.bf16 = p == "bf16";
    } else if (key == "seed")
      o.seed = v.cast<std::uint64_t>();
    else if (key == "threads")
      o.threads = v.cast<int>();
    else if (key == "epochs")
      o.epochs = v.cast<int>();
    else if (key == "max_steps")
      o.max_steps = v.cast<std::int64_t>();
    else if (key == "max_minutes")
      o.max_minutes = v.cast<double>();
    else if (key == "eval_sts")
      o.eval_sts = v.cast<std::string>();
    else if (key == "eval_every")
      o.eval_every = v.cast<std::int64_t>();
    else if (key == "checkpoint_dir")
      o.checkpoint_dir = v.cast<std::string>();
    else if (key == "checkpoint_every")
      o.checkpoint_every = v.cast<std::int64_t>();
    else if (key == "resume")
      o.resume = v.cast<bool>();
    else if (key == "pause_after")
      o.pause_after = v.cast<std::int64_t>();
    else if (key == "log")
      o.log = v.cast<std::string>();
    else if (key == "log_every")
      o.log_every = v.cast<std::int64_t>();
    else
      throw UsageError("train: unknown option '" + key + "'");
  }
  o.sources = train_sources(pairs, triplets, labeled, text, weights);
  if (!o.init.empty() && size_given)
    throw UsageError("the model size options do nothing with init=" + o.init +
                     ": the model's size is kept");
  o.model.pooling = pooling_from_string(pooling);
  return o;
}

py::dict train(py::object progress, const py::kwargs& kwargs) {
  const TrainOptions options = train_options(kwargs);
  TrainCallbacks callbacks;
  if (!progress.is_none())
    callbacks.on_progress = [&progress](const TrainProgress& p) {
      py::gil_scoped_acquire acquire;
      py::dict d;
      d["step"] = p.step;
      d["total_steps"] = p.total_steps;
      d["loss"] = p.loss;
      d["pairs_per_second"] = p.pairs_per_second;
      d["elapsed_seconds"] = p.elapsed_seconds;
      d["eval_spearman"] = p.eval_spearman ? py::object(py::float_(*p.eval_spearman)) : py::none();
      progress(d);
    };
  callbacks.on_warning = [](const std::string& warning) {
    py::gil_scoped_acquire acquire;
    if (PyErr_WarnEx(PyExc_RuntimeWarning, warning.c_str(), 1) < 0)
      throw py::error_already_set();  // warnings turned into errors
  };
  TrainResult r;
  {
    py::gil_scoped_release release;
    r = run_training(options, callbacks);
  }
  py::dict d;
  d["steps"] = r.steps;
  d["final_loss"] = r.final_loss;
  d["best_spearman"] = r.best_spearman ? py::object(py::float_(*r.best_spearman)) : py::none();
  d["interrupted"] = r.interrupted;
  d["stop_reason"] = r.stop_reason;
  return d;
}

}  // namespace
}  // namespace sentemb::python

PYBIND11_MODULE(sentemb, m) {
  using namespace sentemb;
  using sentemb::python::PyModel;
  m.doc() = "Sentence embeddings: encode with a sentemb model (.semb), or train one.";

  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<ModelFileError> model_file_error(m, "ModelFileError", error.ptr());
  static py::exception<InputError> input_error(m, "InputError", error.ptr());
  static py::exception<NumericError> numeric_error(m, "NumericError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const ModelFileError& e) {
      PyErr_SetString(model_file_error.ptr(), e.what());
    } catch (const InputError& e) {
      PyErr_SetString(input_error.ptr(), e.what());
    } catch (const NumericError& e) {
      PyErr_SetString(numeric_error.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  py::class_<PyModel>(m, "Model", "A sentemb model loaded for encoding.")
      .def(py::init<const std::string&, const std::string&, int, int>(), py::arg("path"),
           py::arg("precision") = "fp32", py::arg("threads") = 0, py::arg("batch_size") = 64,
           "Loads a model file. precision: fp32, bf16 or int8; threads: 0 for all cores.")
      .def("encode", &PyModel::encode, py::arg("sentences"), py::arg("batch_size") = 64,
           py::arg("normalize") = py::none(), py::arg("dim") = py::none(),
           py::arg("normalize_embeddings") = py::none(), py::arg("convert_to_numpy") = true,
           py::arg("show_progress_bar") = py::none(),
           "Embeddings of a list of sentences, a float32 array (N, dim); of one sentence, (dim,).\n"
           "normalize (alias normalize_embeddings): None keeps the model's L2 normalisation.\n"
           "dim=K: the first K values of each vector (Matryoshka), renormalised when normalising.")
      .def("similarity", &PyModel::similarity, py::arg("a"), py::arg("b"),
           "Cosine of two sentences, or of each pair of two equal-length lists (an array).")
      .def("tokenize", &PyModel::tokenize, py::arg("text"),
           "The model's input ids of a text: BOS first, at most max_len ids.")
      .def_property_readonly("dim", &PyModel::dim)
      .def_property_readonly("max_len", &PyModel::max_len)
      .def_property_readonly("config", &PyModel::config,
                             "The model's configuration, as `sentemb info --json` prints it.");

  m.def("train", &sentemb::python::train, py::arg("progress") = py::none(),
        "Trains a model; keyword arguments are the options of `sentemb train` with underscores\n"
        "(pairs=[...], triplets=[...], labeled=[...], text=[...], out=..., max_steps=..., ...).\n"
        "progress(dict) is called after every step. Returns the result as a dict.");
  m.attr("__version__") = SENTEMB_VERSION;
}
