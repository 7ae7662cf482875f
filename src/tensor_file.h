// The on-disk container for models and checkpoints.
//
// Layout (all integers little-endian):
//   bytes 0..7   magic "SENTEMB\0"
//   u32          format version (kTensorFileVersion)
//   u64 n, n B   header: UTF-8 JSON (a model's "config", a checkpoint's trainer state, ...)
//   u64 n, n B   blob: the serialized SentencePiece model
//   u32          tensor count
//   per tensor:  u32 name length, name, u32 dtype (0 = float32), u32 ndim,
//                u64 dims[ndim], u64 byte size, [version 2 on: zero bytes up to the
//                next multiple of kTensorAlignment from the file start], the data
//   u64          checksum: FNV-1a-64 over the preceding bytes read as u64 words,
//                the last (size % 8) bytes one at a time (tensor_file_checksum)
// Every length is checked against the bytes that remain before anything is
// allocated, so a corrupt or hostile file is an error, never a crash.
//
// Version 2 aligns each tensor's data so that a mapped file can be read in place
// (model_file_internal.h, map_model): no copy of the parameters, and none of the page
// faults of filling one. Version 1 files (unaligned) still load, by copying.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sentemb {

constexpr std::uint32_t kTensorFileVersion = 2;
constexpr std::size_t kTensorAlignment = 64;  // bytes, from the file start (version 2 on)

struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // product(shape) floats
};

struct TensorFile {
  std::string header;  // JSON text
  std::string blob;
  std::vector<NamedTensor> tensors;

  const NamedTensor* find(const std::string& name) const;
};

// The same, pointing into bytes owned elsewhere (a mapped file): reading a model
// this way copies each tensor once, straight to where it is used.
struct TensorView {
  std::string_view name;
  std::vector<std::int64_t> shape;
  const char* data = nullptr;  // `count` float32 values; aligned from version 2 on
  std::uint64_t count = 0;
  void copy_to(float* out) const;  // out: (count)
};

struct TensorFileView {
  std::string_view header;
  std::string_view blob;
  std::vector<TensorView> tensors;

  const TensorView* find(std::string_view name) const;
};

std::uint64_t tensor_file_checksum(std::string_view bytes);

std::string serialize_tensor_file(const TensorFile& file);
// Both validate the whole file, checksum included; `source` names the file in
// error messages. The view lives as long as `bytes`.
TensorFile parse_tensor_file(std::string_view bytes, const std::string& source);
TensorFileView view_tensor_file(std::string_view bytes, const std::string& source);
TensorFileView view_of(const TensorFile& file);  // lives as long as `file`

// Atomic: writes PATH.tmp, fsyncs, renames over PATH, fsyncs the directory.
// A crash at any moment leaves either the old file or the new one. Throws IoError.
void write_file_atomically(const std::string& path, std::string_view bytes);
std::string read_whole_file(const std::string& path);  // throws IoError

}  // namespace sentemb
