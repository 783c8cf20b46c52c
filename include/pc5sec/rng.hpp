// Random numbers. The default is OpenSSL's CSPRNG. DeterministicRng exists only for simulations
// and tests that ask for reproducible runs; no code path picks it by itself.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

namespace pc5sec {

class Rng {
  public:
    virtual ~Rng() = default;
    virtual void fill(std::span<std::uint8_t> out) = 0;
    virtual bool deterministic() const noexcept = 0;

    template <std::size_t N>
    std::array<std::uint8_t, N> bytes() {
        std::array<std::uint8_t, N> out{};
        fill(out);
        return out;
    }
    std::uint32_t next_u32();
    std::uint8_t next_u8();
};

// OpenSSL RAND_priv_bytes. Thread-safe. Throws CryptoLibraryError if OpenSSL cannot seed.
class SystemRng final : public Rng {
  public:
    void fill(std::span<std::uint8_t> out) override;
    bool deterministic() const noexcept override { return false; }
};

// A seeded generator: AES-128-CTR keystream under a key derived from the seed with SHA-256.
// Same seed, same bytes, on every machine. NOT for real keys outside simulations.
class DeterministicRng final : public Rng {
  public:
    explicit DeterministicRng(std::uint64_t seed);
    ~DeterministicRng() override;
    DeterministicRng(const DeterministicRng&) = delete;
    DeterministicRng& operator=(const DeterministicRng&) = delete;
    void fill(std::span<std::uint8_t> out) override;
    bool deterministic() const noexcept override { return true; }

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// The process-wide default: a SystemRng.
Rng& system_rng();

}  // namespace pc5sec
