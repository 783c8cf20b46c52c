// Every module's benchmark workloads, gathered for `pc5sec bench` and bench/.
#pragma once

#include <vector>

#include "bench/harness.hpp"

namespace pc5sec::bench {

std::vector<Workload> crypto_workloads();  // NEA/NIA single and burst, raw baselines, asymmetric
std::vector<Workload> creds_workloads();   // certificate verification, cold and cached
std::vector<Workload> codec_workloads();   // encode + decode of a full establishment request
std::vector<Workload> all_workloads();

}  // namespace pc5sec::bench
