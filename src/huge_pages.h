// Large buffers on transparent huge pages, where the kernel offers them (THP in
// "madvise" mode, the common default): one page fault per 2 MB instead of one per
// 4 KB. Under a hypervisor a fault costs microseconds; the 21 MB parameter arena of
// a reference-size model took about 5,000 faults, most of `sentemb score`'s 220 ms.
#pragma once

#include <cstddef>
#include <vector>

namespace sentemb {

// Asks for huge pages on the whole pages inside [p, p + bytes); does nothing where
// the kernel has no THP (the hint is only a hint).
void advise_huge_pages(void* p, std::size_t bytes);

// v.assign(n, value) with the storage advised before it is first touched.
template <class T>
void assign_on_huge_pages(std::vector<T>& v, std::size_t n, const T& value) {
  if (v.capacity() < n) {
    std::vector<T>().swap(v);  // no copy of old contents into the new block
    v.reserve(n);
    advise_huge_pages(v.data(), n * sizeof(T));
  }
  v.assign(n, value);
}

}  // namespace sentemb
