// Each subcommand of `sentemb` lives in its own cmd_*.cpp and registers itself on
// the app here; its callback runs the command and throws sentemb::Error on failure.
#pragma once

#include <CLI/CLI.hpp>

namespace sentemb::cli {

// Thrown by a command that finished but must exit with this status (e.g. 130 after an
// interrupt): main() returns it, so destructors run, unlike std::exit.
struct ExitStatus {
  int code;
};

void add_tokenizer_command(CLI::App& app);  // cmd_tokenizer.cpp
void add_info_command(CLI::App& app);       // cmd_info.cpp
void add_init_command(CLI::App& app);       // cmd_init.cpp
void add_train_command(CLI::App& app);      // cmd_train.cpp
void add_encode_command(CLI::App& app);     // cmd_encode.cpp
void add_score_command(CLI::App& app);      // cmd_score.cpp
void add_eval_command(CLI::App& app);       // cmd_eval.cpp
void add_search_command(CLI::App& app);     // cmd_search.cpp
void add_mine_command(CLI::App& app);       // cmd_mine.cpp
void add_serve_command(CLI::App& app);      // cmd_serve.cpp
void add_export_command(CLI::App& app);     // cmd_export.cpp
void add_index_command(CLI::App& app);      // cmd_index.cpp

}  // namespace sentemb::cli
