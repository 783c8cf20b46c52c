// RAND_METHOD is deprecated in OpenSSL 3.0 but still honoured by RAND_bytes / RAND_priv_bytes,
// which is where ECDSA's nonce comes from; no provider-level replacement exists in 3.0.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sim/seeded_openssl.hpp"

#include <openssl/rand.h>

#include <mutex>
#include <span>
#include <stdexcept>

namespace pc5sec::sim {
namespace {

// The generator of the simulation running on this thread: zones of a partitioned run draw on
// their own threads at once (sim/zones.cpp), each from its own.
thread_local Rng* g_rng = nullptr;
std::mutex g_mutex;
std::size_t g_users = 0;  // seeded simulations running (the method is process-wide)

int seeded_bytes(unsigned char* buf, int num) {
    if (!g_rng || num < 0) return 0;
    g_rng->fill(std::span<std::uint8_t>(buf, static_cast<std::size_t>(num)));
    return 1;
}
int seeded_status() {
    return g_rng != nullptr;
}

const RAND_METHOD kSeeded = {nullptr, seeded_bytes, nullptr, nullptr, seeded_bytes, seeded_status};

}  // namespace

SeededOpenSslRandom::SeededOpenSslRandom(Rng& rng) {
    if (g_rng) throw std::logic_error("one seeded simulation at a time on a thread");
    g_rng = &rng;
    std::lock_guard lock(g_mutex);
    if (g_users++ == 0) RAND_set_rand_method(&kSeeded);
}

SeededOpenSslRandom::~SeededOpenSslRandom() {
    g_rng = nullptr;
    std::lock_guard lock(g_mutex);
    if (--g_users == 0) RAND_set_rand_method(nullptr);  // back to OpenSSL's default DRBG
}

}  // namespace pc5sec::sim
