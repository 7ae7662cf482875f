// A one-line progress display on stderr for long commands (encode, search,
// eval, train). It is drawn only when stderr is a terminal, so logs and test
// captures stay clean; everywhere else every call is a cheap no-op.
//
//   Progress progress("encode", total_lines, "lines");  // total 0: unknown
//   for (...) progress.advance(n);
//   progress.finish();
//
// shows  "encode [########............]  4,000/10,000 lines  40.0%  812 lines/s  ETA 0:07"
// or, total unknown,  "encode  4,000 lines  812 lines/s  0:05"
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sentemb::cli {

class Progress {
 public:
  // label: what runs, e.g. "encode"; unit: what is counted, e.g. "lines".
  // enabled: draw at all; by default only when stderr is a terminal.
  Progress(std::string label, std::uint64_t total = 0, std::string unit = "",
           bool enabled = stderr_is_terminal());
  // Ends the line if finish() was not called (e.g. an error is on its way, so
  // its message starts on a fresh line).
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_total(std::uint64_t total);  // 0: unknown
  void update(std::uint64_t done);      // absolute count
  void advance(std::uint64_t n = 1) { update(done_ + n); }
  // Free text after the numbers, e.g. "loss 0.4312" during training.
  void set_note(std::string note);
  // Draws the final state and ends the line; later calls do nothing.
  void finish();

  bool enabled() const { return enabled_; }
  std::uint64_t done() const { return done_; }

  static bool stderr_is_terminal();

  // The text of one line (without "\r"), exposed for testing the layout.
  static std::string format_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 const std::string& unit, double elapsed_seconds,
                                 const std::string& note);

 private:
  void draw(bool force);

  std::string label_, unit_, note_;
  std::uint64_t total_ = 0, done_ = 0;
  bool enabled_ = false, finished_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// The number of lines of a regular file (a last line without '\n' counts), for
// a progress total; nullopt for "-", pipes and unreadable paths. Reads the file
// once, so call it only when a progress bar is shown.
std::optional<std::uint64_t> count_lines(const std::string& path);

}  // namespace sentemb::cli
