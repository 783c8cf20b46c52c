// Small OpenSSL helpers shared by crypto/ and the rooms above it (creds/).
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cstddef>
#include <string>

namespace pc5sec::ossl {

// The oldest queued OpenSSL error as text; clears the queue.
inline std::string last_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "OpenSSL reported no detail";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

// The bytes written so far to a memory BIO.
inline std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace pc5sec::ossl
