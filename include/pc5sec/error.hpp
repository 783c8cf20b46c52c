/// @file
/// Errors as values. Every failure names the field it is about and, where 3GPP defines one,
/// carries the PC5 signalling protocol cause (TS 24.554 Table 11.3.8.1) that a peer would send.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace pc5sec {

/// The kind of an Error.
enum class Errc : std::uint8_t {
    invalid_argument,     ///< a caller-supplied value is out of range (key size, BEARER, ...)
    malformed,            ///< bytes on the wire or in a file do not parse
    unsupported,          ///< a well-formed value that pc5sec does not implement
    verification_failed,  ///< a signature, MAC or certificate check failed
    crypto_failure,       ///< the crypto library itself reported an error
    io,                   ///< a file or socket could not be read or written
    state,                ///< the call is not legal in the current state
    policy,               ///< a security policy or authorisation check said no
};

/// The name of `code`.
const char* errc_name(Errc code) noexcept;

/// A failure: its kind, the field it is about and, where one applies, the PC5 signalling cause.
struct Error {
    Errc code = Errc::invalid_argument;  ///< the kind of failure
    std::string field;    ///< the field, file or parameter at fault ("bearer", "certificate.pem")
    std::string message;  ///< a sentence for a person
    std::optional<std::uint8_t> pc5_cause;  ///< PC5 signalling cause to send, if one applies

    /// `"<field>: <message>"` — what the CLI prints on stderr.
    std::string describe() const;
};

/// An Error of `code` about `field`, with `message` and, if given, the PC5 signalling `cause`.
inline Error make_error(Errc code, std::string field, std::string message,
                        std::optional<std::uint8_t> cause = std::nullopt) {
    return Error{code, std::move(field), std::move(message), cause};
}

/// Thrown only by Result::value() on misuse; library code returns errors, it does not throw them.
class BadResultAccess : public std::logic_error {
  public:
    /// The exception for `e`; what() is e.describe().
    explicit BadResultAccess(const Error& e) : std::logic_error(e.describe()), error_(e) {}
    /// The error the Result held.
    const Error& error() const noexcept { return error_; }

  private:
    Error error_;
};

/// A small std::expected stand-in (C++20 has none): a value or an Error.
template <class T>
class [[nodiscard]] Result {
  public:
    /// A result holding `value`.
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
    /// A result holding `error`.
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

    /// Whether the result holds a value.
    bool ok() const noexcept { return v_.index() == 0; }
    /// ok().
    explicit operator bool() const noexcept { return ok(); }

    /// The value; throws BadResultAccess if the result holds an error.
    T& value() & {
        check();
        return std::get<0>(v_);
    }
    /// The value; throws BadResultAccess if the result holds an error.
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    /// The value, moved out; throws BadResultAccess if the result holds an error.
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    /// value().
    T& operator*() & { return value(); }
    /// value().
    const T& operator*() const& { return value(); }
    /// value(), moved out.
    T&& operator*() && { return std::move(*this).value(); }
    /// The value's address (value()).
    T* operator->() { return &value(); }
    /// The value's address (value()).
    const T* operator->() const { return &value(); }

    /// The error; only when !ok().
    const Error& error() const& { return std::get<1>(v_); }
    /// The error, moved out; only when !ok().
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    void check() const {
        if (!ok()) throw BadResultAccess(std::get<1>(v_));
    }
    std::variant<T, Error> v_;
};

/// A success or an Error (Status).
template <>
class [[nodiscard]] Result<void> {
  public:
    /// A success.
    Result() = default;
    /// A result holding `error`.
    Result(Error error) : error_(std::move(error)) {}  // NOLINT(implicit)

    /// Whether the result is a success.
    bool ok() const noexcept { return !error_.has_value(); }
    /// ok().
    explicit operator bool() const noexcept { return ok(); }
    /// Throws BadResultAccess if the result holds an error.
    void value() const {
        if (error_) throw BadResultAccess(*error_);
    }
    /// The error; only when !ok().
    const Error& error() const& { return *error_; }
    /// The error, moved out; only when !ok().
    Error&& error() && { return std::move(*error_); }

  private:
    std::optional<Error> error_;
};

/// A success or an Error.
using Status = Result<void>;

/// Propagate an error from an expression returning Result<...>.
#define PC5SEC_TRY(expr)                                             \
    do {                                                             \
        auto pc5sec_try_r_ = (expr);                                 \
        if (!pc5sec_try_r_) return std::move(pc5sec_try_r_).error(); \
    } while (0)

}  // namespace pc5sec
