#include "bench/registry.hpp"

namespace pc5sec::bench {

std::vector<Workload> all_workloads() {
    std::vector<Workload> all;
    for (auto provider : {crypto_workloads, creds_workloads, codec_workloads}) {
        auto w = provider();
        all.insert(all.end(), std::make_move_iterator(w.begin()), std::make_move_iterator(w.end()));
    }
    return all;
}

}  // namespace pc5sec::bench
