// MPI for `pc5sec simulate` (docs/scale.md): when mpirun started the program, each rank runs a
// block of the scenario's zones and rank 0 gathers them. Built with PC5SEC_MPI (Open MPI);
// without it, a program started by mpirun with several ranks says so and stops.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace pc5sec::cli::mpi {

// Whether mpirun (or another MPI launcher) started this process: its environment says so.
// MPI_Init runs only then.
bool launched();
// Whether this program was built with MPI (PC5SEC_MPI).
bool available();

// MPI_Init on construction, MPI_Finalize on destruction; one per process.
class Session {
  public:
    Session();
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    unsigned rank() const noexcept { return rank_; }
    unsigned ranks() const noexcept { return ranks_; }
    // The ranks on this machine (for the default number of threads).
    unsigned local_ranks() const noexcept { return local_; }
    // Every rank's octets on rank 0, in rank order (empty elsewhere). Every rank calls it once.
    std::vector<std::vector<std::uint8_t>> gather(std::vector<std::uint8_t> mine);

  private:
    unsigned rank_ = 0, ranks_ = 1, local_ = 1;
};

}  // namespace pc5sec::cli::mpi
