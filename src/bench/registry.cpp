#include "bench/registry.hpp"

namespace pc5sec::bench {

std::vector<Workload> all_workloads() {
    std::vector<Workload> all;
    std::vector<std::vector<Workload> (*)()> providers{crypto_workloads, creds_workloads,
                                                       codec_workloads};
#ifdef PC5SEC_HAVE_LINK
    providers.push_back(link_workloads);
#endif
#ifdef PC5SEC_HAVE_SIGAUTH
    providers.push_back(sigauth_workloads);
#endif
#ifdef PC5SEC_HAVE_USERPLANE
    providers.push_back(userplane_workloads);
#endif
#ifdef PC5SEC_HAVE_SIM
    providers.push_back(sim_workloads);
#endif
#ifdef PC5SEC_HAVE_NET
    providers.push_back(net_workloads);
#endif
    for (auto provider : providers) {
        auto w = provider();
        all.insert(all.end(), std::make_move_iterator(w.begin()), std::make_move_iterator(w.end()));
    }
    return all;
}

}  // namespace pc5sec::bench
