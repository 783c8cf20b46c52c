// For the duration of a seeded simulation, OpenSSL's own random source draws from the
// simulation's DeterministicRng. OpenSSL 3.0 picks ECDSA's per-signature k from RAND_priv_bytes
// (there is no RFC 6979 before 3.2); without this, a P-256 signature's DER length (70-72
// octets) and so the bytes on air would differ between two runs of one seed.
// Never used outside the simulator: it replaces a process-wide setting. Each thread draws from
// the generator its own SeededOpenSslRandom names (the zones of a partitioned run, each on its
// thread); while one is alive, a thread without one gets no random octets from OpenSSL.
#pragma once

#include "pc5sec/rng.hpp"

namespace pc5sec::sim {

class SeededOpenSslRandom {
  public:
    explicit SeededOpenSslRandom(Rng& rng);
    ~SeededOpenSslRandom();
    SeededOpenSslRandom(const SeededOpenSslRandom&) = delete;
    SeededOpenSslRandom& operator=(const SeededOpenSslRandom&) = delete;
};

}  // namespace pc5sec::sim
