// Tests that install user-plane keys without running a link engine: a pc5::DataKeys whose NRPEK
// and NRPIK are made from `seed` (other seeds, other keys), as pc5::Endpoint::data_keys gives.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "pc5sec/pc5.hpp"

namespace pc5sec::test {

inline pc5::DataKeys data_keys(const std::string& link_id, std::uint16_t knrp_sess_id,
                               bool initiator, pc5::L2Id peer_l2, std::uint8_t seed = 1,
                               CipheringAlgorithm c = CipheringAlgorithm::nea2,
                               IntegrityAlgorithm i = IntegrityAlgorithm::nia2,
                               pc5::LinkKind kind = pc5::LinkKind::hop,
                               std::uint8_t remote_local_id = 0) {
    pc5::DataKeys k;
    k.link_id = link_id;
    k.kind = kind;
    k.peer_l2 = peer_l2;
    k.remote_local_id = remote_local_id;
    k.initiator = initiator;
    k.knrp_sess_id = KnrpSessId{knrp_sess_id};
    k.ciphering = c;
    k.integrity = i;
    std::array<std::uint8_t, 16> e{}, m{};
    for (std::size_t n = 0; n < 16; ++n) {
        e[n] = static_cast<std::uint8_t>(seed * 31 + n);
        m[n] = static_cast<std::uint8_t>(seed * 17 + 3 * n);
    }
    k.nrpek = Nrpek(e);
    k.nrpik = Nrpik(m);
    return k;
}

}  // namespace pc5sec::test
