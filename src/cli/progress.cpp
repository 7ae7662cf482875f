#include "cli/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace sentemb::cli {
namespace {

// Redraws at most this often: terminals are slow and the numbers need not be
// fresher than the eye can read.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 20;

// 1234567 → "1,234,567".
std::string group_digits(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// 75 → "1:15", 3725 → "1:02:05".
std::string format_duration(double seconds) {
  const auto s = static_cast<std::uint64_t>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_rate(double per_second) {
  if (per_second >= 100) return group_digits(static_cast<std::uint64_t>(per_second + 0.5));
  return fmt::format("{:.1f}", per_second);
}

int terminal_width() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

Progress::Progress(std::string label, std::uint64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

Progress::~Progress() {
  // Only end the line: a destructor running during unwinding should not paint
  // a "finished" state for work that failed.
  if (enabled_ && drawn_ && !finished_) std::fputc('\n', stderr);
}

bool Progress::stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

void Progress::set_total(std::uint64_t total) {
  total_ = total;
}

void Progress::set_note(std::string note) {
  note_ = std::move(note);
}

void Progress::update(std::uint64_t done) {
  done_ = done;
  if (enabled_ && !finished_) draw(false);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  draw(true);
  std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = format_line(label_, done_, total_, unit_, elapsed, note_);
  const std::size_t width = static_cast<std::size_t>(std::max(terminal_width() - 1, 10));
  if (line.size() > width) line.resize(width);
  // "\r" back to the line start, the text, then erase whatever a longer
  // previous line left to the right.
  fmt::print(stderr, "\r{}\x1b[K", line);
  std::fflush(stderr);
  drawn_ = true;
}

std::string Progress::format_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                  const std::string& unit, double elapsed_seconds,
                                  const std::string& note) {
  const std::string unit_text = unit.empty() ? "" : " " + unit;
  const double rate = elapsed_seconds > 0 ? done / elapsed_seconds : 0;
  std::string line = label;
  if (total > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / total);
    const int filled = static_cast<int>(fraction * kBarWidth);
    line += " [" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "]";
    line += fmt::format("  {}/{}{}  {:.1f}%", group_digits(done), group_digits(total), unit_text,
                        100 * fraction);
  } else {
    line += fmt::format("  {}{}", group_digits(done), unit_text);
  }
  if (rate > 0) line += fmt::format("  {}{}/s", format_rate(rate), unit.empty() ? "" : " " + unit);
  if (total > 0 && done < total && rate > 0) {
    line += "  ETA " + format_duration((total - done) / rate);
  } else {
    line += "  " + format_duration(elapsed_seconds);
  }
  if (!note.empty()) line += "  " + note;
  return line;
}

std::optional<std::uint64_t> count_lines(const std::string& path) {
  if (path == "-") return std::nullopt;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::uint64_t lines = 0;
  char last = '\n';
  std::vector<char> buffer(1 << 16);
  std::size_t got;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) {
    lines += static_cast<std::uint64_t>(std::count(buffer.data(), buffer.data() + got, '\n'));
    last = buffer[got - 1];
  }
  std::fclose(f);
  if (last != '\n') ++lines;
  return lines;
}

}  // namespace sentemb::cli
