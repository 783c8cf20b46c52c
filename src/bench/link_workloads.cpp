// Solution A establishment workloads (filled in below as the engine grows).
#include "bench/registry.hpp"

namespace pc5sec::bench {

std::vector<Workload> link_workloads() {
    return {};
}

}  // namespace pc5sec::bench
