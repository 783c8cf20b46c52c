// Stateful libFuzzer target (issue 17 item 3): the source, the UE-to-UE relay and the target of
// each solution on one radio, driven by a sequence of mutated, dropped, duplicated and reordered
// frames, attacker frames, replays, virtual time and legitimate commands.
//
// Input: octet 0 picks the set-up: 0..127 (modulo 5) solution A direct (source and target), A
// through a layer-2 relay, A through a layer-3 relay, B literal, B hardened (B's layer-2 path);
// 128..255 (modulo 2) B literal or B hardened through a layer-3 relay (B always goes through
// the relay; its layer-3 hops are checked like links: both ends hold the same keys). The source
// connects at time 0; every frame an engine sends goes into an in-flight queue. Then operations,
// one octet each (modulo 13) with their operands:
//    0-2  deliver the queue's head
//    3    drop the head (lost on the air)
//    4    duplicate the head: deliver it and keep a copy at the back
//    5    reorder: move the head to the back
//    6    flip one bit of the head (2 operand octets choose the bit) and deliver it (not genuine)
//    7    inject an attacker frame: destination (octet; bit 7: broadcast), claimed source L2 ID
//         (octet: a genuine UE's or a fresh one), LCID (octet: 0, 1, 2, 55, 63, 7 or 9), length
//         (2 octets, big-endian), the PDU
//    8    replay a frame delivered earlier (operand octet: which of the last 64)
//    9    advance virtual time by 1 to 40 seconds (operand octet) and fire the due timers
//    10   the application releases (operand bit 0: one link, else release_all; bit 1: at the
//         target instead of the source)
//    11   the application re-keys a link (operand bit 1: at the target; bit 0: solution A
//         re-authenticates too)
//    12   the application updates a link's identifiers (TS 24.554 7.2.4: A, new L2 IDs and
//         KNRP-sess; B, those of the end UE's hop, then a re-keying; bit 1: at the target)
// At most 256 operations are read. When the input is exhausted, every frame left is delivered
// and the timers run for 120 s of virtual time, so that the protocol can finish.
//
// Invariants, checked after every step (std::abort with a one-line explanation on violation):
//   1. no key without authentication: every LinkEstablished / LinkRekeyed names this UE and a
//      genuine peer (the fixture's user info IDs); every secured link has data keys; two UEs
//      holding an established link of the same id hold the same KNRP-sess ID, NRPEK, NRPIK and
//      algorithms, in opposite directions (solution B, which reports a link while re-keying it:
//      whenever their KNRP-sess IDs are equal, and at the end of the run); solution B's relay
//      holds no link and no end-to-end key;
//   2. no established link removed by an unauthenticated frame: a bit-flipped, injected or
//      replayed frame (or what an engine sent in answer to one) leaves every established link of
//      the UE that receives it established, with the same keys, and makes it report no
//      LinkReleased / LinkFailed for them. What counts as unauthenticated is the content: a frame
//      whose LCID and PDU some UE sent genuinely, arriving for the first time at its destination
//      (a lost frame replayed, a bit flipped back), is a late genuine frame;
//   3. state and memory bounded: links per UE under a bound derived from the Config (solution A:
//      link_count() <= max_half_open + 8, cached_knrps() <= 8; B: 8 links), at most 64 frames
//      sent in answer to one input;
//   4. no livelock: links_over_frame_bound() stays empty at every UE;
// and those of the single-engine targets: every drop and failure says why, every PDU sent
// decodes (SRB0 and discovery) or carries a PDCP header (SRB1/2), and on LCID 55 an SRAP header
// (both solutions) before a message that decodes (bearer 0) or a PDCP header.
//
// B-literal is seed 001 as written, without freshness: a copy of an ESTABLISHMENT REQUEST,
// however late, is accepted again and makes or replaces the target's link with new keys
// (sigauth::kLiteralModeNote). Invariant 2 does not hold for it by design, so in that set-up a
// request may replace a link; the link ids it made or touched are then left out of invariant 1's
// key comparison.
//
// Environment: PC5SEC_FUZZ_ENGINES_VERBOSE=1 traces each delivery, command and event on stderr
// (to explain a crash); PC5SEC_FUZZ_ENGINES_SEEDS=DIR writes the seed corpus. Runs are
// deterministic: the engines and OpenSSL (ECDSA's k) draw from seeded generators.
//
// Corpus: fuzz/corpus/engines/ (for each set-up: all frames delivered; some dropped, duplicated
// and reordered; a bit flip; an injected copy of the first request; a replay; a release and a
// re-keying), written by running this target once with PC5SEC_FUZZ_ENGINES_SEEDS=DIR.
// The violations it found (solution A's re-keying leaving the two ends on different keys, and a
// responder naming a forged request's half-open link by a live link's id) are fixed; their
// reproducers are in the corpus as regression_*.bin.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "pc5sec/codec.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/srap.hpp"
#include "sim/seeded_openssl.hpp"

namespace {

using namespace pc5sec;
using namespace std::chrono_literals;

constexpr pc5::L2Id kSource = 0x000a01, kRelay = 0x000b02, kTarget = 0x000c03;
constexpr std::uint32_t kRsc = 1;
constexpr std::uint8_t kLcids[7] = {0, 1, 2, 55, 63, 7, 9};
constexpr std::size_t kMaxOperations = 256;
constexpr std::size_t kMaxQueue = 512;      // more in flight: the oldest is lost on the air
constexpr std::size_t kMaxDuplicate = 256;  // no duplicate beyond this many in flight
constexpr std::size_t kHistory = 64;        // frames an attacker recorded, for replays
constexpr std::size_t kMaxFramesPerInput = 64;
constexpr std::size_t kHalfOpen = 8;  // solution A's Config::max_half_open here
constexpr pc5::Time kHorizon = 120s;

enum Setup : int {
    a_direct,
    a_l2,
    a_l3,
    b_literal,
    b_hardened,
    b_l3_literal,
    b_l3_hardened,
    kSetups
};
const char* const kSetupNames[kSetups] = {"A-direct",   "A-l2",         "A-l3",         "B-literal",
                                          "B-hardened", "B-l3-literal", "B-l3-hardened"};
// The first octet of an input picks the set-up: 0..127 one of the first five (the corpus made
// before solution B's layer-3 path keeps its meaning), 128..255 one of B's layer-3 set-ups.
int setup_of(std::uint8_t first) {
    return first < 128 ? first % b_l3_literal : b_l3_literal + (first - 128) % 2;
}
std::uint8_t first_of(int setup) {
    return static_cast<std::uint8_t>(setup < b_l3_literal ? setup : 128 + setup - b_l3_literal);
}
const char* const kNames[3] = {"alice", "relay-1", "bob"};
const pc5::L2Id kL2s[3] = {kSource, kRelay, kTarget};

// Credentials of the three UEs (source, relay, target) for both solutions, made once.
struct Fixture {
    creds::TimePoint t0 = creds::from_unix_seconds(1'800'000'000);
    DeterministicRng rng{17};
    std::optional<creds::ProvisioningFunction> pf;
    link::Config a[3];
    sigauth::Config b[2][3];  // [mode][UE]

    Fixture() {
        // The CA's signatures (ECDSA's k) from a seeded source too: the same certificates in
        // every process, so that a crash found by one replays in another.
        DeterministicRng openssl_rng{31};
        sim::SeededOpenSslRandom seeded(openssl_rng);
        pf.emplace(
            creds::ProvisioningFunction::create(t0 - 24h, 24h * 365, "fuzz CA", rng).value());
        auto trust = creds::TrustStore::create(pf->ca_certificate()).value();
        for (int i = 0; i < 3; ++i) {
            const bool relay = i == 1;
            creds::UeProfile p{kNames[i],
                               {{relay ? creds::Role::u2u_relay : creds::Role::end_ue}, {kRsc}},
                               KeyType::p256,
                               {}};
            auto ic = pf->issue(p, t0 - 1h, 24h * 30, rng).value();
            auto& c = a[i];
            c.user_info = kNames[i];
            c.l2_id = kL2s[i];
            c.role = relay ? link::UeRole::relay : link::UeRole::end_ue;
            c.credentials =
                std::make_shared<creds::CredentialManager>(ic.key, ic.certificate, trust);
            c.credentials->set_logger([](std::string_view) {});
            c.wall_epoch = t0;
            c.directory = {{"alice", kSource}, {"bob", kTarget}};
            c.max_half_open = kHalfOpen;
            for (int m = 0; m < 2; ++m) {
                auto& s = b[m][i];
                s.role = relay ? sigauth::Role::relay : sigauth::Role::end_ue;
                s.user_info = kNames[i];
                s.l2_id = kL2s[i];
                s.mode = m ? sigauth::Mode::hardened : sigauth::Mode::literal;
                s.key = ic.key;
                if (m) {
                    s.certificate = ic.certificate;
                    s.trust = trust;
                }
                s.rscs = {kRsc};
                s.wall_clock_at_zero = t0;
                s.directory = {{"alice", kSource}, {"bob", kTarget}};
            }
        }
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

// One UE of the run: an engine of solution A or B.
struct Node {
    int index = 0;  // 0 source, 1 relay, 2 target
    std::unique_ptr<link::Engine> a;
    std::unique_ptr<sigauth::Engine> b;

    pc5::Endpoint& ep() const {
        if (a) return *a;
        return *b;
    }
    const char* name() const { return kNames[index]; }
    bool relay() const { return index == 1; }
    std::vector<pc5::LinkSummary> links() const { return a ? a->links() : b->links(); }
    const std::vector<std::string>& over_bound() const {
        return a ? a->links_over_frame_bound() : b->links_over_frame_bound();
    }
};

// A frame on the air. `genuine`: sent by an engine on its own (not in answer to an attacker's
// frame), so that invariant 2 does not apply to it.
struct InFlight {
    pc5::Frame frame;
    bool genuine = true;
};

// A frame the attacker recorded when it was delivered, and whether some UE acted on it (none
// dropped it, except as a repeat of a frame it had acted on): a replay of a frame no UE acted
// on is only a late delivery of a genuine frame.
struct Recorded {
    pc5::Frame frame;
    bool accepted = true;
};

// PC5SEC_FUZZ_ENGINES_VERBOSE: each delivery, command and event on stderr (to explain a crash).
bool verbose() {
    static const bool v = std::getenv("PC5SEC_FUZZ_ENGINES_VERBOSE") != nullptr;
    return v;
}

std::string describe(const pc5::Frame& f) {
    char head[64];
    std::snprintf(head, sizeof head, "%06x>%06x lcid %u, %zu octets", f.src, f.dst, f.lcid,
                  f.pdu.size());
    std::string out = head;
    std::span<const std::uint8_t> pdu = f.pdu;
    bool plain = f.lcid == pc5::lcid::kSrb0 || f.lcid == pc5::lcid::kDiscovery;
    if (f.lcid == pc5::lcid::kEndToEnd) {  // SRAP, then SL-SRB0 plain or PDCP
        if (auto h = srap::parse_header(pdu)) {
            std::snprintf(head, sizeof head, ", SRAP bearer %u UE %u>%u", h->bearer, h->src_ue,
                          h->dst_ue);
            out += head;
            pdu = pdu.subspan(srap::kHeaderSize);
            plain = h->bearer == 0;
        }
    }
    if (plain) {
        if (auto m = codec::decode(pdu))
            out += std::string(", ") +
                   codec::message_name(std::visit([](const auto& x) { return x.kType; }, *m));
    } else if (auto h = pdcp::peek_header(pdu)) {
        std::snprintf(head, sizeof head, ", PDCP KNRP-sess ID %04x SN %u", h->knrp_sess_id.value,
                      h->sn);
        out += head;
        if (f.capture)
            if (auto m = codec::decode(f.capture->message))
                out += std::string(", ") +
                       codec::message_name(std::visit([](const auto& x) { return x.kType; }, *m));
    }
    return out;
}

std::string hex4(std::uint16_t v) {
    char out[8];
    std::snprintf(out, sizeof out, "%04x", v);
    return out;
}

// What a frame says (LCID and PDU; on LCID 55 the end-to-end PDU after the SRAP header, which a
// relay rewrites), and what it says to one UE (its destination too).
std::string content_of(const pc5::Frame& f) {
    std::string k(1, static_cast<char>(f.lcid));
    const std::size_t skip =
        f.lcid == pc5::lcid::kEndToEnd ? std::min(f.pdu.size(), srap::kHeaderSize) : 0;
    k.append(f.pdu.begin() + static_cast<std::ptrdiff_t>(skip), f.pdu.end());
    return k;
}
std::string delivery_of(const pc5::Frame& f) {
    std::string k;
    for (int s = 16; s >= 0; s -= 8)
        k.push_back(static_cast<char>(f.dst >> s));
    return k + content_of(f);
}

bool is_request(const pc5::Frame& f) {
    std::span<const std::uint8_t> pdu = f.pdu;
    if (f.lcid == pc5::lcid::kEndToEnd) {  // what a relay forwards on SL-SRB0 (SRAP bearer 0)
        auto h = srap::parse_header(pdu);
        if (!h || h->bearer != pc5::lcid::kSrb0) return false;
        pdu = pdu.subspan(srap::kHeaderSize);
    } else if (f.lcid != pc5::lcid::kSrb0) {
        return false;
    }
    auto m = codec::decode(pdu);
    return m && std::holds_alternative<codec::DirectLinkEstablishmentRequest>(*m);
}

bool same_keys(const pc5::DataKeys& x, const pc5::DataKeys& y) {
    return x.knrp_sess_id == y.knrp_sess_id && x.ciphering == y.ciphering &&
           x.integrity == y.integrity && x.nrpek == y.nrpek && x.nrpik == y.nrpik;
}

class Run {
  public:
    explicit Run(int setup) : setup_(setup) {
        auto& fx = fixture();
        const bool with_relay = setup != a_direct;
        for (int i = 0; i < 3; ++i) {
            if (i == 1 && !with_relay) continue;
            Node n;
            n.index = i;
            if (setup <= a_l3) {
                auto c = fx.a[i];
                c.rng = &rng_;
                c.capture = verbose();  // the trace names protected messages too
                n.a = link::Engine::create(std::move(c)).value();
            } else {
                auto c = fx.b[setup == b_hardened || setup == b_l3_hardened][i];
                c.rng = &rng_;
                c.capture = verbose();
                n.b = sigauth::Engine::create(std::move(c)).value();
            }
            nodes_.push_back(std::move(n));
        }
    }

    // The source asks for its link at time 0 (seed 000 / seed 001 step 1).
    void start() {
        pc5::ConnectRequest req;
        req.target = "bob";
        if (setup_ == a_direct) {
            req.target_l2 = kTarget;
        } else {
            req.path = setup_ == a_l3 || setup_ >= b_l3_literal ? pc5::Path::l3 : pc5::Path::l2;
            req.rsc = kRsc;
            req.relay = "relay-1";
            req.relay_l2 = kRelay;
        }
        source().ep().connect(req, now_);
        after_local(source());
    }

    void deliver_head() {
        if (queue_.empty()) return;
        auto item = std::move(queue_.front());
        queue_.pop_front();
        deliver(item.frame, item.genuine, false);
    }
    void drop_head() {
        if (queue_.empty()) return;
        if (verbose()) std::fprintf(stderr, "  drop %s\n", describe(queue_.front().frame).c_str());
        queue_.pop_front();
    }
    void duplicate_head() {
        if (queue_.empty()) return;
        auto item = queue_.front();
        deliver_head();
        if (queue_.size() < kMaxDuplicate) queue_.push_back(std::move(item));
    }
    void reorder_head() {
        if (queue_.empty()) return;
        queue_.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    void flip_head(std::uint16_t bit) {
        if (queue_.empty()) return;
        auto item = std::move(queue_.front());
        queue_.pop_front();
        if (item.frame.pdu.empty()) return;
        const std::size_t at = bit % (item.frame.pdu.size() * 8);
        item.frame.pdu[at / 8] ^= static_cast<std::uint8_t>(1u << (at % 8));
        if (verbose()) std::fprintf(stderr, "  flip octet %zu bit %zu\n", at / 8, at % 8);
        deliver(item.frame, false, false);
    }
    void inject(pc5::Frame f) { deliver(f, false, false); }
    void replay(std::uint8_t which) {
        if (history_.empty()) return;
        const auto r = history_[which % history_.size()];
        // A frame no UE acted on, delivered again, is a late delivery of a genuine frame.
        deliver(r.frame, !r.accepted, true);
    }
    void advance(pc5::Time d) {
        now_ += d;
        if (verbose()) std::fprintf(stderr, "  advance to t=%llds\n", seconds());
        if (verbose())
            for (const auto& n : nodes_)
                print_links(n);
        fire_timers();
        check("advance time");
    }
    void release(std::uint8_t operand) {
        Node& n = (operand & 2) ? target() : source();
        if (verbose()) std::fprintf(stderr, "  t=%llds %s releases\n", seconds(), n.name());
        if (operand & 1) {
            auto l = n.links();
            if (!l.empty()) {
                if (n.a)
                    (void)n.a->release(l.front().id, now_);
                else
                    (void)n.b->release(l.front().id, now_);
            }
        } else {
            n.ep().release_all(now_);
        }
        after_local(n);
    }
    void rekey(std::uint8_t operand) {
        Node& n = (operand & 2) ? target() : source();
        auto l = n.links();
        if (l.empty()) return;
        if (verbose())
            std::fprintf(stderr, "  t=%llds %s re-keys %s\n", seconds(), n.name(),
                         l.back().id.c_str());
        if (n.a)
            (void)n.a->rekey(l.back().id, operand & 1, now_);
        else
            (void)n.b->rekey(l.back().id, now_);
        after_local(n);
    }

    void update_identifiers(std::uint8_t operand) {
        Node& n = (operand & 2) ? target() : source();
        auto l = n.links();
        if (l.empty()) return;
        if (verbose())
            std::fprintf(stderr, "  t=%llds %s updates the identifiers of %s\n", seconds(),
                         n.name(), l.back().id.c_str());
        if (n.a)
            (void)n.a->update_identifiers(l.back().id, now_);
        else
            (void)n.b->update_identifiers(l.back().id, now_);
        after_local(n);
    }

    // Input exhausted: everything left is delivered and the timers run up to the horizon.
    void finish() {
        const pc5::Time until = now_ + kHorizon;
        for (int guard = 0; guard < 20000; ++guard) {
            if (!queue_.empty()) {
                deliver_head();
                continue;
            }
            pc5::Time next = pc5::kNever;
            for (auto& n : nodes_)
                next = std::min(next, n.ep().next_timeout());
            if (next == pc5::kNever || next > until) break;
            now_ = std::max(now_, next);
            fire_timers();
            check("timers after the input");
        }
        check("end of run", true);
        if (verbose()) {
            std::fprintf(stderr, "%s t=%llds:", kSetupNames[setup_], seconds());
            for (const auto& n : nodes_)
                std::fprintf(stderr, " %s %zu link(s), %llu rekeyed;", n.name(), n.links().size(),
                             static_cast<unsigned long long>(rekeyed_[n.index]));
            std::fprintf(stderr, "\n");
        }
    }

    const std::deque<InFlight>& queue() const { return queue_; }
    const std::vector<Node>& nodes() const { return nodes_; }

    // The node `d` names (attacker destinations), and an L2 ID claimed as the source.
    pc5::L2Id node_l2(std::uint8_t d) const { return kL2s[nodes_[d % nodes_.size()].index]; }

  private:
    long long seconds() const {
        return static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(now_).count());
    }

    [[noreturn]] void violated(const char* invariant, const std::string& what) const {
        std::fprintf(stderr, "fuzz_engines: invariant %s violated, set-up %s, t=%llds: %s\n",
                     invariant, kSetupNames[setup_], seconds(), what.c_str());
        std::abort();
    }

    Node& source() { return nodes_.front(); }
    Node& target() { return nodes_.back(); }
    Node* relay_node() {
        for (auto& n : nodes_)
            if (n.relay()) return &n;
        return nullptr;
    }

    // Whether `f` says what some UE genuinely sent, and its destination never received it: the
    // first copy to arrive there, however it came (a genuine frame lost on the way and replayed,
    // a relay forwarding such a replay, a bit flipped twice), is no attack.
    bool first_copy(const pc5::Frame& f) const {
        return sent_genuine_.count(content_of(f)) && !delivered_.count(delivery_of(f));
    }

    // What `n` sent: checked, then put on the air. `answering_attack`: sent in answer to a
    // non-genuine frame, so not genuine itself unless it is the first copy of a genuine one.
    void collect_frames(Node& n, bool answering_attack) {
        std::size_t count = 0;
        while (auto f = n.ep().poll_transmit()) {
            if (++count > kMaxFramesPerInput)
                violated(
                    "3 (bounded state)",
                    std::string(n.name()) + " sent more than 64 frames in answer to one input");
            check_pdu(n, *f);
            const bool genuine = !answering_attack || first_copy(*f);
            if (verbose())
                std::fprintf(stderr, "    %s sends %s%s\n", n.name(), describe(*f).c_str(),
                             genuine ? "" : " (answering an attack)");
            if (genuine) sent_genuine_.insert(content_of(*f));
            queue_.push_back(InFlight{std::move(*f), genuine});
            if (queue_.size() > kMaxQueue) queue_.pop_front();
        }
    }

    void check_pdu(const Node& n, const pc5::Frame& f) const {
        const std::string who = n.name();
        if (f.pdu.empty()) violated("PDU decodes", who + " sent an empty PDU");
        if (f.lcid == pc5::lcid::kSrb0 || f.lcid == pc5::lcid::kDiscovery) {
            if (!codec::decode(f.pdu).ok())
                violated("PDU decodes", who + " sent an undecodable PC5-S message");
        } else if ((n.a && f.lcid == pc5::lcid::kSrb1) || f.lcid == pc5::lcid::kSrb2) {
            // Solution B sends on SL-SRB2 only its hops' identifier update, under their keys.
            if (!pdcp::peek_header(f.pdu).ok())
                violated("PDU decodes", who + " sent an SRB PDU without a PDCP header");
        } else if (f.lcid == pc5::lcid::kEndToEnd) {  // SRAP (both solutions), then the PDU
            auto h = srap::parse_header(f.pdu);
            if (!h)
                violated("PDU decodes", who + " sent an end-to-end PDU without its SRAP header");
            // A relay forwards by the SRAP header, the PDU behind it as it came (TS 38.351:
            // solution A's relay reads none it has a destination for): what an end UE made must
            // decode.
            const auto inner = std::span(f.pdu).subspan(srap::kHeaderSize);
            if (!n.relay() && (h->bearer == pc5::lcid::kSrb0 ? !codec::decode(inner).ok()
                                                             : !pdcp::peek_header(inner).ok()))
                violated("PDU decodes", who + " sent an end-to-end PDU that does not decode");
        } else {
            violated("PDU decodes", who + " sent on LCID " + std::to_string(f.lcid));
        }
    }

    // The events of `n`, checked (invariant 1 and the cheap ones), appended to `out`.
    void collect_events(Node& n, std::vector<pc5::Event>* out) {
        const std::string self = n.name();
        auto genuine_peer = [&](const pc5::LinkSummary& l, const char* what) {
            if (l.local != self)
                violated("1 (no key without authentication)",
                         self + " reported " + what + " as " + l.local);
            bool ok = false;
            for (const auto& m : nodes_)
                ok = ok || (m.name() != self && l.peer == m.name());
            // Solution B's relay is no end-to-end peer (only the peer of a layer-3 hop).
            if (ok && n.b && l.peer == "relay-1" && l.kind != pc5::LinkKind::hop) ok = false;
            if (!ok)
                violated("1 (no key without authentication)",
                         self + " " + what + " with peer '" + l.peer + "'");
        };
        while (auto ev = n.ep().poll_event()) {
            if (const auto* d = std::get_if<pc5::PduDropped>(&*ev); d && d->detail.empty())
                violated("every drop says why", self + " dropped a PDU without a reason");
            if (const auto* f = std::get_if<pc5::LinkFailed>(&*ev); f && f->reason.empty())
                violated("every failure says why", self + " failed a link without a reason");
            if (const auto* l = std::get_if<pc5::LinkEstablished>(&*ev)) {
                if (n.b && n.relay() && l->link.kind != pc5::LinkKind::hop)
                    violated("1 (no key without authentication)",
                             "solution B's relay established an end-to-end link");
                genuine_peer(l->link, "established a link");
                if (l->link.security_active && !l->link.fingerprints.contains("NRPIK"))
                    violated("1 (no key without authentication)",
                             self + " established a secured link without NRPIK");
            }
            if (const auto* r = std::get_if<pc5::LinkRekeyed>(&*ev)) {
                genuine_peer(r->link, "re-keyed a link");
                ++rekeyed_[n.index];
            }
            if (verbose()) {
                std::string what = std::visit(
                    [](const auto& e) -> std::string {
                        using E = std::decay_t<decltype(e)>;
                        if constexpr (std::is_same_v<E, pc5::LinkEstablished>)
                            return "LinkEstablished " + e.link.id;
                        else if constexpr (std::is_same_v<E, pc5::LinkRekeyed>)
                            return "LinkRekeyed " + e.link.id;
                        else if constexpr (std::is_same_v<E, pc5::LinkReleased>)
                            return "LinkReleased " + e.id;
                        else if constexpr (std::is_same_v<E, pc5::LinkFailed>)
                            return "LinkFailed " + e.id + ": " + e.reason;
                        else if constexpr (std::is_same_v<E, pc5::PduDropped>)
                            return "PduDropped " + e.link_id + ": " + e.detail;
                        else
                            return "other event";
                    },
                    *ev);
                std::fprintf(stderr, "    %s: %s\n", self.c_str(), what.c_str());
            }
            if (out) out->push_back(std::move(*ev));
        }
    }

    void after_local(Node& n) {
        collect_frames(n, false);
        collect_events(n, nullptr);
        fire_timers();
        check("local command");
    }

    void fire_timers() {
        for (int round = 0; round < 8; ++round) {
            bool any = false;
            for (auto& n : nodes_) {
                if (n.ep().next_timeout() > now_) continue;
                any = true;
                n.ep().handle_timeout(now_);
                collect_frames(n, false);
                collect_events(n, nullptr);
            }
            if (!any) return;
        }
    }

    // Delivers `f` to the UE(s) it is addressed to. `genuine` false: invariant 2 is checked
    // around each receive.
    void deliver(const pc5::Frame& f, bool genuine, bool replayed) {
        bool dropped = false, any = false;
        genuine = genuine || first_copy(f);
        if (verbose())
            std::fprintf(stderr, "  t=%llds deliver %s%s\n", seconds(), describe(f).c_str(),
                         genuine ? "" : (replayed ? " (replayed)" : " (not genuine)"));
        for (auto& n : nodes_) {
            const pc5::L2Id l2 = kL2s[n.index];
            if (f.dst == pc5::kBroadcastL2Id ? l2 == f.src
                                             : (l2 != f.dst && !n.ep().owns_l2(f.dst)))
                continue;  // an L2 ID of a link identifier update is the UE's too
            any = true;
            struct Held {
                std::string id;
                std::optional<pc5::DataKeys> keys;
            };
            // B-literal has no freshness (kLiteralModeNote): a copy of a request, however late
            // (a replay, or a duplicate the radio delayed), replaces the target's link.
            const bool literal_request =
                (setup_ == b_literal || setup_ == b_l3_literal) && is_request(f);
            std::vector<Held> before;
            if (!genuine || literal_request)
                for (const auto& l : n.links())
                    before.push_back({l.id, n.ep().data_keys(l.id)});
            n.ep().receive(f, now_);
            collect_frames(n, !genuine);
            std::vector<pc5::Event> events;
            collect_events(n, &events);
            // A frame recognised as a repeat (DropReason::duplicate) was acted on before.
            for (const auto& e : events)
                if (const auto* d = std::get_if<pc5::PduDropped>(&e))
                    dropped = dropped || d->reason != pc5::DropReason::duplicate;
            if (!genuine || literal_request)
                check_untouched(n, f, before, events, replayed, literal_request);
            if (verbose()) print_links(n);
        }
        // A frame its destination dropped (not as a repeat) was not received: a later copy of
        // it is still the first one there.
        if (any && !dropped) delivered_.insert(delivery_of(f));
        if (genuine && any) {
            if (history_.size() >= kHistory) history_.pop_front();
            history_.push_back(Recorded{f, !dropped});
        }
        fire_timers();
        check(genuine ? "genuine frame" : "attacker frame");
    }

    void print_links(const Node& n) const {
        if (n.a)
            std::fprintf(stderr, "    %s: %zu link(s) in any state\n", n.name(), n.a->link_count());
        for (const auto& l : n.links()) {
            const auto k = n.ep().data_keys(l.id);
            std::fprintf(stderr, "    %s: %s KNRP-sess ID %04x\n", n.name(), l.id.c_str(),
                         k ? k->knrp_sess_id.value : 0u);
        }
    }

    // Invariant 2 at `n` after a non-genuine frame (B-literal: the ids a request replaced are
    // left out of the key comparison instead).
    template <class Held>
    void check_untouched(const Node& n, const pc5::Frame& f, const std::vector<Held>& before,
                         const std::vector<pc5::Event>& events, bool replayed,
                         bool literal_request) {
        const auto now_links = n.links();
        if (literal_request)  // the links it made or replaced: keys the source may not hold
            for (const auto& l : now_links) {
                const auto it = std::find_if(before.begin(), before.end(),
                                             [&](const Held& h) { return h.id == l.id; });
                const auto keys = n.ep().data_keys(l.id);
                if (it == before.end() || !keys || !it->keys || !same_keys(*keys, *it->keys))
                    exempt_.insert(l.id);
            }
        for (const auto& h : before) {
            std::string why;
            const auto it = std::find_if(now_links.begin(), now_links.end(),
                                         [&](const pc5::LinkSummary& l) { return l.id == h.id; });
            if (it == now_links.end()) {
                why = "no longer established";
            } else {
                auto keys = n.ep().data_keys(h.id);
                if (h.keys.has_value() != keys.has_value() || (keys && !same_keys(*h.keys, *keys)))
                    why = "keys changed";
            }
            for (const auto& e : events) {
                if (const auto* r = std::get_if<pc5::LinkReleased>(&e); r && r->id == h.id)
                    why +=
                        (why.empty() ? "" : ", ") + std::string("LinkReleased (") + r->peer + ")";
                if (const auto* x = std::get_if<pc5::LinkFailed>(&e); x && x->id == h.id)
                    why += (why.empty() ? "" : ", ") + std::string("LinkFailed: ") + x->reason;
            }
            if (why.empty()) continue;
            if (literal_request) {
                exempt_.insert(h.id);
                continue;
            }
            violated("2 (no established link removed by an unauthenticated frame)",
                     std::string(n.name()) + " link " + h.id + ": " + why + " after a " +
                         (replayed ? "replayed" : "bit-flipped, injected or answering") +
                         " frame on LCID " + std::to_string(f.lcid) + " from " +
                         std::to_string(f.src));
        }
    }

    // Invariants 1, 3 and 4 at every UE.
    void check(const char* step, bool end = false) {
        std::vector<std::vector<pc5::LinkSummary>> links;
        for (const auto& n : nodes_) {
            const std::string self = n.name();
            if (!n.over_bound().empty())
                violated("4 (no livelock)", self + " link " + n.over_bound().front() +
                                                " sent more than its establishment frame bound (" +
                                                step + ")");
            links.push_back(n.links());
            if (n.a) {
                if (n.a->link_count() > kHalfOpen + 8)
                    violated("3 (bounded state)",
                             self + " holds " + std::to_string(n.a->link_count()) + " links");
                if (n.a->cached_knrps() > 8)
                    violated("3 (bounded state)",
                             self + " caches " + std::to_string(n.a->cached_knrps()) + " KNRPs");
            } else {
                if (n.relay() && !links.back().empty())
                    violated("1 (no key without authentication)",
                             "solution B's relay holds a link");
                if (links.back().size() > 8)
                    violated("3 (bounded state)",
                             self + " holds " + std::to_string(links.back().size()) + " links");
            }
            for (const auto& l : links.back())
                if ((n.b || l.security_active) && !n.ep().data_keys(l.id))
                    violated("1 (no key without authentication)",
                             self + " has no keys for its secured link " + l.id);
        }
        for (std::size_t x = 0; x < nodes_.size(); ++x)
            for (std::size_t y = x + 1; y < nodes_.size(); ++y)
                for (const auto& lx : links[x]) {
                    if (exempt_.count(lx.id)) continue;
                    for (const auto& ly : links[y]) {
                        if (ly.id != lx.id) continue;
                        auto kx = nodes_[x].ep().data_keys(lx.id);
                        auto ky = nodes_[y].ep().data_keys(ly.id);
                        if (!kx || !ky) continue;
                        // Solution B reports a link during its re-keying (one end may have
                        // switched to the new KNRP-sess ID first); solution A does not, so two
                        // established ends of A must agree at every step, B's at the end.
                        const bool other_session = kx->knrp_sess_id != ky->knrp_sess_id;
                        if (other_session && nodes_[x].b && !end) continue;
                        if (!same_keys(*kx, *ky) || kx->initiator == ky->initiator)
                            violated("1 (no key without authentication)",
                                     std::string(nodes_[x].name()) + " and " + nodes_[y].name() +
                                         " disagree on the keys of " + lx.id + " (KNRP-sess ID " +
                                         hex4(kx->knrp_sess_id.value) + " and " +
                                         hex4(ky->knrp_sess_id.value) + ", " + step + ")");
                    }
                }
        // The relay forwards end-to-end PC5-S (solution B, solution A's layer-2 relay) without
        // ever holding the end-to-end keys.
        if (Node* r = relay_node())
            for (std::size_t x = 0; x < nodes_.size(); ++x)
                for (const auto& l : links[x])
                    if ((r->b || l.kind == pc5::LinkKind::e2e) && r->ep().data_keys(l.id))
                        violated("1 (no key without authentication)",
                                 "the relay holds the end-to-end keys of " + l.id);
        // Solution B through a layer-3 relay: an end UE and the relay hold the same keys for the
        // hop that carries the end-to-end link (while the relay still has its route).
        if (Node* r = relay_node(); r && r->b)
            for (std::size_t x = 0; x < nodes_.size(); ++x)
                for (const auto& l : links[x]) {
                    if (exempt_.count(l.id)) continue;  // B-literal: replaced by a replay
                    const auto k = nodes_[x].ep().data_keys(l.id);
                    if (!k || k->carrier.empty()) continue;
                    const auto mine = nodes_[x].ep().data_keys(k->carrier);
                    const auto relays = r->ep().data_keys(k->carrier);
                    if (!mine)
                        violated("1 (no key without authentication)",
                                 std::string(nodes_[x].name()) + " has no keys for the hop " +
                                     k->carrier + " of " + l.id);
                    else if (relays &&
                             (!same_keys(*mine, *relays) || mine->initiator == relays->initiator) &&
                             // A link identifier update of the hop: the end UE switches first
                             // (its ack may be late or lost); the two agree again at the end.
                             (end || mine->knrp_sess_id == relays->knrp_sess_id))
                        violated("1 (no key without authentication)",
                                 std::string(nodes_[x].name()) +
                                     " and the relay disagree on the keys of the hop " +
                                     k->carrier + " (" + step + ")");
                }
    }

    int setup_;
    DeterministicRng rng_{23};
    std::vector<Node> nodes_;
    std::deque<InFlight> queue_;
    std::deque<Recorded> history_;
    std::set<std::string> sent_genuine_;  // content_of every genuine frame sent
    std::set<std::string> delivered_;     // delivery_of every frame received (not dropped)
    std::set<std::string> exempt_;        // B-literal: link ids a recorded request replaced
    std::uint64_t rekeyed_[3] = {};       // LinkRekeyed events per UE (PC5SEC_FUZZ_ENGINES_VERBOSE)
    pc5::Time now_{};
};

// Reads operations and their operands; 0 past the end.
struct Reader {
    const std::uint8_t* data;
    std::size_t size, at = 0;
    bool more() const { return at < size; }
    std::uint8_t next() { return at < size ? data[at++] : 0; }
};

void run(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return;
    fixture();
    // ECDSA's per-signature k from a seeded source too, so that one input is one run.
    DeterministicRng openssl_rng{29};
    sim::SeededOpenSslRandom seeded(openssl_rng);
    Run r(setup_of(data[0]));
    r.start();
    Reader in{data, size, 1};
    for (std::size_t ops = 0; ops < kMaxOperations && in.more(); ++ops) {
        switch (in.next() % 13) {
            case 0:
            case 1:
            case 2:
                r.deliver_head();
                break;
            case 3:
                r.drop_head();
                break;
            case 4:
                r.duplicate_head();
                break;
            case 5:
                r.reorder_head();
                break;
            case 6: {
                const std::uint16_t hi = in.next(), lo = in.next();
                r.flip_head(static_cast<std::uint16_t>(hi << 8 | lo));
                break;
            }
            case 7: {
                const std::uint8_t d = in.next(), s = in.next(), lc = in.next();
                const std::size_t len = static_cast<std::size_t>(in.next()) << 8 | in.next();
                pc5::Frame f;
                f.dst = (d & 0x80) ? pc5::kBroadcastL2Id : r.node_l2(d);
                f.src = (s & 0x80) ? 0x0d0000u | s : r.node_l2(s);
                f.lcid = kLcids[lc % 7];
                const std::size_t n = std::min(len, in.size - in.at);
                f.pdu.assign(in.data + in.at, in.data + in.at + n);
                in.at += n;
                r.inject(std::move(f));
                break;
            }
            case 8:
                r.replay(in.next());
                break;
            case 9:
                r.advance(std::chrono::seconds(1 + in.next() % 40));
                break;
            case 10:
                r.release(in.next());
                break;
            case 11:
                r.rekey(in.next());
                break;
            case 12:
                r.update_identifiers(in.next());
                break;
        }
    }
    r.finish();
}

void write(const std::string& file, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

// PC5SEC_FUZZ_ENGINES_SEEDS=DIR: for each set-up, inputs that take the protocol somewhere.
void write_seeds(const char* dir) {
    fixture();
    for (int s = 0; s < kSetups; ++s) {
        const std::string base = std::string(dir) + "/" + kSetupNames[s] + "_";
        const auto setup = first_of(s);
        auto seed = [&](std::vector<std::uint8_t> ops) {
            ops.insert(ops.begin(), setup);
            return ops;
        };
        std::vector<std::uint8_t> deliver_all(40, 0);
        write(base + "deliver.bin", seed(deliver_all));
        write(base + "lossy.bin",
              seed({0, 0, 3, 9, 9, 0, 4, 0, 5, 0, 0, 4, 0, 3, 9, 9, 0, 0, 5, 0, 0, 0, 0, 0, 0}));
        write(base + "bitflip.bin", seed({0, 0, 6, 0, 77, 0, 0, 0, 6, 1, 3, 0, 0, 0}));
        // An attacker's copy of the source's first frame, to the target from a fresh L2 ID.
        DeterministicRng openssl_rng{29};
        sim::SeededOpenSslRandom seeded(openssl_rng);
        Run r(s);
        r.start();
        std::vector<std::uint8_t> inject{7, 0xff, 0x81, 0, 0, 0};
        if (!r.queue().empty()) {
            const auto& f = r.queue().front().frame;
            inject[2] = 0x81;
            inject[3] = static_cast<std::uint8_t>(
                std::find(std::begin(kLcids), std::end(kLcids), f.lcid) - std::begin(kLcids));
            inject[4] = static_cast<std::uint8_t>(f.pdu.size() >> 8);
            inject[5] = static_cast<std::uint8_t>(f.pdu.size());
            inject.insert(inject.end(), f.pdu.begin(), f.pdu.end());
        }
        inject[1] = static_cast<std::uint8_t>(r.nodes().size() - 1);  // the target
        inject.insert(inject.end(), {0, 0, 0, 0, 0, 0, 0, 0});
        write(base + "inject.bin", seed(inject));
        write(base + "replay.bin",
              seed({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 8, 3, 9, 39, 8, 1, 8, 5, 0, 0}));
        write(base + "release.bin",
              seed({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, 8, 0, 0, 8, 1, 0, 0}));
        write(base + "rekey.bin", seed({0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0, 0, 0, 0, 0, 11,
                                        0, 0, 0, 8, 2, 0, 3, 0, 9, 20, 11, 2, 0, 0, 0, 0, 0}));
        // The identifiers updated, one message lost and one replayed, then both ends at once.
        write(base + "identifiers.bin",
              seed({0, 0, 0, 0, 0, 0, 0, 0,  0, 0,  0, 0, 0, 0, 0, 0, 12, 0, 0,
                    3, 0, 9, 6, 8, 1, 0, 12, 0, 12, 2, 0, 0, 0, 0, 9, 40, 0, 0}));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("PC5SEC_FUZZ_ENGINES_SEEDS")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run(data, size);
    return 0;
}
