// sentemb: train sentence embeddings, encode text to vectors, score similarity.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "dist/communicator.h"
#include "malloc_settings.h"
#include "sentemb/errors.h"
#include "sentemb/version.h"

namespace {

// An error on one process of an MPI job ends them all (the others would wait for it).
int failed(int code) {
  sentemb::dist::abort_job_if_distributed(code);
  return code;
}

// Parses and runs the command; the exit status.
int run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const sentemb::cli::ExitStatus& status) {
    return status.code;
  } catch (const sentemb::UsageError& e) {
    fmt::print(stderr, "sentemb: usage error: {}\n", e.what());
    return failed(2);
  } catch (const sentemb::Error& e) {
    fmt::print(stderr, "sentemb: error: {}\n", e.what());
    return failed(1);
  } catch (const std::exception& e) {
    fmt::print(stderr, "sentemb: internal error: {}\n", e.what());
    return failed(1);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sentemb::apply_malloc_settings();
  CLI::App app{
      "sentemb: sentence embeddings from the command line.\n"
      "Train a transformer encoder on paired text, encode text files to vectors,\n"
      "and score semantic similarity.",
      "sentemb"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", "sentemb " SENTEMB_VERSION);

  using namespace sentemb::cli;
  add_tokenizer_command(app);
  add_info_command(app);
  add_init_command(app);
  add_train_command(app);
  add_encode_command(app);
  add_score_command(app);
  add_eval_command(app);
  add_search_command(app);
  add_mine_command(app);
  add_serve_command(app);
  add_export_command(app);
  add_index_command(app);

  return run(app, argc, argv);
}
