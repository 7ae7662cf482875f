// The time of one MPI all-reduce (sum) of N floats, the gradient exchange of a
// data-parallel step (tools/bench/mpi_bench.sh). mpirun -np 2 allreduce_time [N]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int n = argc > 1 ? std::atoi(argv[1]) : 5'200'000;
  std::vector<float> data(n, 1.0f);
  double best = 1e9, total = 0;
  const int rounds = 20;
  for (int i = 0; i < rounds + 2; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, data.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    const double took = MPI_Wtime() - start;
    if (i >= 2) total += took, best = std::min(best, took);
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    std::printf("all-reduce of %d floats (%.1f MB): mean %.2f ms, best %.2f ms\n", n, n * 4e-6,
                1e3 * total / rounds, 1e3 * best);
  MPI_Finalize();
}
