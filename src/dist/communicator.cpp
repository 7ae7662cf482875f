#include "dist/communicator.h"

#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>

namespace sentemb::dist {

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_size() const override { return 1; }
  void allgather(const float* mine, const std::vector<int>& counts, float* all) const override {
    if (all != mine) std::memcpy(all, mine, sizeof(float) * std::size_t(counts.at(0)));
  }
  void allreduce_sum(float*, std::size_t) const override {}
  void allreduce_sum(std::int64_t*, std::size_t) const override {}
  void allreduce_max(double*, std::size_t) const override {}
  void broadcast(void*, std::size_t, int) const override {}
  void barrier() const override {}
  void abort(int) const override {}
};

// MPI's world; MPI_Finalize runs at exit, unless abort() ended the job.
class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
  }
  ~MpiWorld() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }
  void allgather(const float* mine, const std::vector<int>& counts, float* all) const override {
    std::vector<int> offsets(counts.size(), 0);
    std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
    MPI_Allgatherv(mine, counts[rank_], MPI_FLOAT, all, counts.data(), offsets.data(), MPI_FLOAT,
                   MPI_COMM_WORLD);
  }
  void allreduce_sum(float* data, std::size_t n) const override {
    for (std::size_t done = 0; done < n;) {  // MPI counts are int
      const int part = static_cast<int>(std::min<std::size_t>(n - done, 1 << 30));
      MPI_Allreduce(MPI_IN_PLACE, data + done, part, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      done += part;
    }
  }
  void allreduce_sum(std::int64_t* data, std::size_t n) const override {
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  }
  void allreduce_max(double* data, std::size_t n) const override {
    MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
  }
  void barrier() const override { MPI_Barrier(MPI_COMM_WORLD); }
  void abort(int code) const override { MPI_Abort(MPI_COMM_WORLD, code); }

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
};

}  // namespace

void broadcast(const Communicator& comm, std::string& text, int root) {
  if (comm.size() == 1) return;
  std::uint64_t size = text.size();
  comm.broadcast(&size, sizeof size, root);
  text.resize(size);
  comm.broadcast(text.data(), size, root);
}

bool launched_by_mpi() {
  // Open MPI's mpirun, PMIx (Open MPI 4+, Slurm's srun --mpi=pmix), PMI (MPICH, srun
  // --mpi=pmi2), and a Slurm step of several tasks.
  if (env_int("OMPI_COMM_WORLD_SIZE", 1) > 1) return true;
  if (std::getenv("PMIX_RANK") && env_int("PMIX_SIZE", env_int("SLURM_NTASKS", 2)) > 1) return true;
  if (std::getenv("PMI_RANK") && env_int("PMI_SIZE", 2) > 1) return true;
  return std::getenv("SLURM_PROCID") && env_int("SLURM_NTASKS", 1) > 1 &&
         std::getenv("SLURM_STEP_ID");
}

Communicator& world() {
  static const std::unique_ptr<Communicator> comm =
      launched_by_mpi() ? std::unique_ptr<Communicator>(std::make_unique<MpiWorld>())
                        : std::make_unique<SingleProcess>();
  return *comm;
}

int default_threads(const Communicator& comm) {
  if (comm.size() == 1) return omp_get_max_threads();
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, comm.local_size()));
}

void abort_job_if_distributed(int code) {
  if (launched_by_mpi() && world().size() > 1) world().abort(code);
}

}  // namespace sentemb::dist
