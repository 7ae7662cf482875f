// Large buffers faulted in by one system call instead of one page fault per 4 KB
// page on first touch. Under a hypervisor a fault costs microseconds: the 21 MB
// parameter arena of a reference-size model took about 5,000 of them, 60 ms of a
// 190 ms `sentemb score` on a 2-core Zen 5 VM. (Transparent huge pages would cut
// the faults too, but on that VM they made every later pass over the weights up to
// 2× slower.)
#pragma once

#include <cstddef>
#include <vector>

namespace sentemb {

// Faults in the whole pages inside [p, p + bytes) for writing; a no-op where the
// kernel has no MADV_POPULATE_WRITE (before Linux 5.14): the pages then fault as usual.
void prefault(void* p, std::size_t bytes);

// v.assign(n, value), its storage faulted in before it is first touched.
template <class T>
void assign_prefaulted(std::vector<T>& v, std::size_t n, const T& value) {
  if (v.capacity() < n) {
    std::vector<T>().swap(v);  // no copy of old contents into the new block
    v.reserve(n);
    prefault(v.data(), n * sizeof(T));
  }
  v.assign(n, value);
}

}  // namespace sentemb
