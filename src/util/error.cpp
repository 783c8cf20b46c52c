#include "pc5sec/error.hpp"

namespace pc5sec {

const char* errc_name(Errc code) noexcept {
    switch (code) {
        case Errc::invalid_argument:
            return "invalid argument";
        case Errc::malformed:
            return "malformed";
        case Errc::unsupported:
            return "unsupported";
        case Errc::verification_failed:
            return "verification failed";
        case Errc::crypto_failure:
            return "crypto failure";
        case Errc::io:
            return "i/o error";
        case Errc::state:
            return "wrong state";
        case Errc::policy:
            return "refused by policy";
    }
    return "unknown error";
}

std::string Error::describe() const {
    std::string out = field.empty() ? std::string(errc_name(code)) : field;
    out += ": ";
    out += message.empty() ? std::string(errc_name(code)) : message;
    if (pc5_cause) out += " (PC5 cause #" + std::to_string(*pc5_cause) + ")";
    return out;
}

}  // namespace pc5sec
