// MPI for `pc5sec simulate` (cli/mpi.hpp).
#include "cli/mpi.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

#ifdef PC5SEC_MPI
#include <mpi.h>
#endif

namespace pc5sec::cli::mpi {

namespace {
unsigned env_unsigned(const char* name, unsigned fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    try {
        return static_cast<unsigned>(std::stoul(v));
    } catch (const std::exception&) {
        return fallback;
    }
}
}  // namespace

bool launched() {
    // Open MPI's mpirun, and PMI/PMIx launchers (Slurm's srun, MPICH's hydra).
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(v)) return true;
    return false;
}

bool available() {
#ifdef PC5SEC_MPI
    return true;
#else
    return false;
#endif
}

#ifdef PC5SEC_MPI

namespace {
// MPI counts are ints: larger messages go in pieces.
constexpr std::size_t kPiece = std::size_t{1} << 30;
void check(int rc, const char* what) {
    if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}
}  // namespace

Session::Session() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init");
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    rank_ = static_cast<unsigned>(r);
    ranks_ = static_cast<unsigned>(n);
    local_ = env_unsigned("OMPI_COMM_WORLD_LOCAL_SIZE", 1);
}

Session::~Session() {
    MPI_Finalize();
}

std::vector<std::vector<std::uint8_t>> Session::gather(std::vector<std::uint8_t> mine) {
    std::uint64_t size = mine.size();
    std::vector<std::uint64_t> sizes(rank_ == 0 ? ranks_ : 0);
    check(MPI_Gather(&size, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD),
          "MPI_Gather");
    std::vector<std::vector<std::uint8_t>> out;
    if (rank_ != 0) {
        for (std::size_t at = 0; at < mine.size(); at += kPiece) {
            const auto n = static_cast<int>(std::min(kPiece, mine.size() - at));
            check(MPI_Send(mine.data() + at, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD), "MPI_Send");
        }
        return out;
    }
    out.resize(ranks_);
    out[0] = std::move(mine);
    for (unsigned r = 1; r < ranks_; ++r) {
        out[r].resize(sizes[r]);
        for (std::size_t at = 0; at < out[r].size(); at += kPiece) {
            const auto n = static_cast<int>(std::min(kPiece, out[r].size() - at));
            check(MPI_Recv(out[r].data() + at, n, MPI_BYTE, static_cast<int>(r), 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE),
                  "MPI_Recv");
        }
    }
    return out;
}

#else

Session::Session() {
    ranks_ = env_unsigned("OMPI_COMM_WORLD_SIZE", env_unsigned("PMI_SIZE", 1));
    if (ranks_ > 1)
        throw std::runtime_error(
            "started by an MPI launcher with several ranks, but this pc5sec was built without "
            "MPI: configure with -DPC5SEC_MPI=ON (docs/scale.md)");
}
Session::~Session() = default;
std::vector<std::vector<std::uint8_t>> Session::gather(std::vector<std::uint8_t> mine) {
    std::vector<std::vector<std::uint8_t>> out;
    out.push_back(std::move(mine));
    return out;
}

#endif

}  // namespace pc5sec::cli::mpi
