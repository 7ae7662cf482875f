// The processes of a run and what they exchange (docs/architecture.md, "Many
// machines"). world() is one process alone unless an MPI launcher (mpirun, srun)
// started this one: only then is MPI initialised, lazily, on the first call, so a
// command that never asks (score, eval) never pays for MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sentemb::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this node (for the default thread count); 1 alone.
  virtual int local_size() const = 0;
  // all (sum of counts) = every rank's `mine` (counts[rank] values), in rank order.
  virtual void allgather(const float* mine, const std::vector<int>& counts, float* all) const = 0;
  virtual void allreduce_sum(float* data, std::size_t n) const = 0;
  virtual void allreduce_sum(std::int64_t* data, std::size_t n) const = 0;
  virtual void allreduce_max(double* data, std::size_t n) const = 0;
  virtual void broadcast(void* data, std::size_t bytes, int root) const = 0;
  virtual void barrier() const = 0;
  // Ends every process of the job with `code` (a rank alone: nothing to do).
  virtual void abort(int code) const = 0;
};

// Gives every process root's `text`.
void broadcast(const Communicator& comm, std::string& text, int root);

// True if the environment is that of an MPI launcher with more than one process.
bool launched_by_mpi();

// The job's communicator: MPI's world when launched_by_mpi(), else one process.
Communicator& world();

// The default OpenMP threads of a rank: the node's cores over the ranks on the node.
int default_threads(const Communicator& comm);

// Ends the whole job after an error on one rank (a rank alone: nothing).
void abort_job_if_distributed(int code);

}  // namespace sentemb::dist
