// An in-process PC5 medium for any pc5::Endpoint: UEs by layer-2 ID, a virtual clock, a fixed
// delay per frame, broadcast delivery, and a hook through which a caller plays the attacker
// (alter, drop or record frames). Used by the tests and by `pc5sec establish`; the simulator
// of [sim] adds loss, reordering, coverage and scale.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pc5sec/pc5.hpp"

namespace pc5sec::pc5 {

struct Loopback {
    struct Pending {
        Time at;
        std::uint64_t order;
        Frame frame;
    };
    std::map<L2Id, Endpoint*> ues;
    Time now{0};
    Time delay = std::chrono::milliseconds(2);
    std::vector<Pending> in_flight;
    std::uint64_t order = 0;
    // Return false to drop the frame; may change it.
    std::function<bool(Frame&)> attacker;
    std::vector<Frame> delivered;
    std::map<std::string, std::vector<Event>> events;  // by UE user info

    void add(Endpoint& e) { ues[e.l2_id()] = &e; }
    void inject(Frame f) { in_flight.push_back({now + delay, order++, std::move(f)}); }

    void collect() {
        for (auto& [l2, e] : ues) {
            while (auto f = e->poll_transmit())
                in_flight.push_back({now + delay, order++, std::move(*f)});
            while (auto ev = e->poll_event())
                events[e->user_info()].push_back(std::move(*ev));
        }
    }

    // Runs until nothing is in flight and no timer is due before `limit`.
    void run(Time limit = std::chrono::seconds(120)) {
        collect();
        while (now < limit) {
            Time next = kNever;
            for (auto& p : in_flight)
                next = std::min(next, p.at);
            for (auto& [l2, e] : ues)
                next = std::min(next, e->next_timeout());
            if (next == kNever || next > limit) break;
            now = std::max(now, next);
            // Deliver every frame due now, oldest first.
            std::vector<Pending> due;
            for (auto it = in_flight.begin(); it != in_flight.end();)
                if (it->at <= now) {
                    due.push_back(std::move(*it));
                    it = in_flight.erase(it);
                } else {
                    ++it;
                }
            std::sort(due.begin(), due.end(),
                      [](const Pending& a, const Pending& b) { return a.order < b.order; });
            for (auto& p : due) {
                if (attacker && !attacker(p.frame)) continue;
                delivered.push_back(p.frame);
                for (auto& [l2, e] : ues)
                    if (p.frame.dst == kBroadcastL2Id ? l2 != p.frame.src : e->owns_l2(p.frame.dst))
                        e->receive(p.frame, now);
            }
            for (auto& [l2, e] : ues)
                if (e->next_timeout() <= now) e->handle_timeout(now);
            collect();
        }
    }

    template <class E>
    std::vector<E> of(const std::string& ue) const {
        std::vector<E> out;
        if (auto it = events.find(ue); it != events.end())
            for (const auto& e : it->second)
                if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
        return out;
    }
};

}  // namespace pc5sec::pc5
