// Every module's benchmark workloads, gathered for `pc5sec bench` and bench/.
#pragma once

#include <vector>

#include "bench/harness.hpp"

namespace pc5sec::bench {

std::vector<Workload> crypto_workloads();     // NEA/NIA single and burst, raw baselines, asymmetric
std::vector<Workload> creds_workloads();      // certificate verification, cold and cached
std::vector<Workload> codec_workloads();      // encode + decode of a full establishment request
std::vector<Workload> link_workloads();       // solution A establishments (link/)
std::vector<Workload> sigauth_workloads();    // solution B establishments (sigauth/)
std::vector<Workload> userplane_workloads();  // protected data, relaying (userplane/)
std::vector<Workload> sim_workloads();        // simulator scale (sim/)
std::vector<Workload> net_workloads();        // pc5sec ue over loopback UDP (net/)
std::vector<Workload> all_workloads();

}  // namespace pc5sec::bench
