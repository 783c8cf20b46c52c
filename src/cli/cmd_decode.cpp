// `pc5sec decode`: PC5 signalling messages from hex or a pcap, readable or as JSON lines.
// Also prints the code-point table (docs/code-points.md) and the Wireshark schema, and writes a
// capture with one message of every type.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/pcap.hpp"

namespace pc5sec::cli {
namespace {

struct DecodeArgs {
    std::vector<std::string> hex;
    std::string pcap;
    std::string write_samples;
    bool json = false;
    bool code_points = false;
    bool schema = false;
};

nlohmann::json frame_json(const pcap::Frame& f, std::size_t index) {
    return nlohmann::json{{"index", index},
                          {"timestamp_us", f.timestamp_us},
                          {"sender_l2_id", f.header.sender_l2_id},
                          {"receiver_l2_id", f.header.receiver_l2_id},
                          {"hop", f.header.hop},
                          {"direction", f.header.direction},
                          {"lcid", f.header.lcid},
                          {"flags", f.header.flags}};
}

void print(std::span<const std::uint8_t> bytes, bool json, const pcap::Frame* frame,
           std::size_t index, const std::string& where) {
    auto m = codec::decode(bytes);
    if (!m) {
        Error e = std::move(m).error();
        if (!where.empty()) e.field = where + ": " + e.field;
        throw CommandError(e);
    }
    if (json) {
        auto j = codec::to_json(*m, bytes);
        if (frame) j["frame"] = frame_json(*frame, index);
        std::cout << j.dump() << "\n";
        return;
    }
    if (frame)
        std::cout << fmt::format(
            "frame {}: {:06x} -> {:06x}, hop {}, direction {}, LCID {}, flags "
            "0x{:02x}, t={} us\n",
            index, frame->header.sender_l2_id, frame->header.receiver_l2_id, frame->header.hop,
            frame->header.direction, frame->header.lcid, frame->header.flags, frame->timestamp_us);
    std::cout << codec::to_text(*m);
    std::cout << fmt::format("  ({} octets: {})\n", bytes.size(), to_hex(bytes));
}

void write_samples(const std::string& path) {
    pcap::PcapWriter w;
    std::uint64_t t = 1'700'000'000'000'000;
    std::uint8_t hop = 0;
    for (const bool full : {true, false}) {
        for (const auto& m : codec::sample_messages(full)) {
            const auto bytes = take(codec::encode(m));
            pcap::FrameHeader h;
            h.sender_l2_id = 0x000a01;
            h.receiver_l2_id = 0x000b02;
            h.hop = static_cast<std::uint8_t>(hop++ % 3);
            h.direction = static_cast<std::uint8_t>(codec::sequence_number(m) & 1);
            h.lcid = codec::message_type(m) == codec::MessageType::establishment_request ? 0 : 2;
            h.flags = h.lcid == 0 ? 0 : pcap::kFlagIntegrityProtected;
            take(w.add(t, h, bytes));
            t += 1000;
        }
    }
    take(w.save(path));
}

void run(const DecodeArgs& a) {
    if (a.code_points) {
        std::cout << codec::code_points_markdown();
        return;
    }
    if (a.schema) {
        std::cout << codec::wireshark_schema_lua();
        return;
    }
    if (!a.write_samples.empty()) {
        write_samples(a.write_samples);
        return;
    }
    if (a.hex.empty() && a.pcap.empty())
        throw CommandError(kExitBadInput, "decode: give a message in hex, or --pcap FILE");
    std::size_t n = 0;
    for (const auto& text : a.hex) {
        ++n;
        const auto bytes =
            take(from_hex(text, a.hex.size() > 1 ? fmt::format("message {}", n) : "hex"));
        print(bytes, a.json, nullptr, n, a.hex.size() > 1 ? fmt::format("message {}", n) : "");
    }
    if (!a.pcap.empty()) {
        const auto frames = take(pcap::read_file(a.pcap));
        std::size_t i = 0;
        for (const auto& f : frames) {
            ++i;
            print(f.message, a.json, &f, i, fmt::format("{}: frame {}", a.pcap, i));
        }
    }
}

void register_decode(CLI::App& app) {
    auto args = std::make_shared<DecodeArgs>();
    auto* sub = app.add_subcommand("decode", "decode PC5 signalling messages (hex or pcap)");
    sub->add_option("hex", args->hex, "messages in hex, one per argument");
    sub->add_option("--pcap", args->pcap, "decode every frame of a pc5sec capture (USER0)");
    sub->add_flag("--json", args->json, "one JSON object per message, with \"hex\"");
    sub->add_flag("--code-points", args->code_points,
                  "print the code-point table (docs/code-points.md)");
    sub->add_flag("--wireshark-schema", args->schema,
                  "print the generated part of tools/wireshark/pc5s.lua");
    sub->add_option("--write-samples", args->write_samples,
                    "write a capture with one message of every type (all IEs, then none)");
    sub->callback([args] { run(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{20, register_decode};

}  // namespace pc5sec::cli
