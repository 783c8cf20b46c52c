// A tiny driver for the sigauth tests: engines on one radio, frames delivered by L2 ID, a
// virtual clock that jumps to the next timer when nothing is in flight. It drives the engines
// the way the simulator and the daemon do (pc5.hpp: receive / handle_timeout / poll_*).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <vector>

#include "pc5sec/sigauth.hpp"

namespace pc5sec::sigauth::test {

using namespace std::chrono_literals;

class Radio {
  public:
    void attach(pc5::Endpoint& e) { ues_.push_back(&e); }

    // Called for every frame before delivery; return false to lose it on the air.
    std::function<bool(pc5::Frame&)> on_air;

    pc5::Time now{};
    std::vector<pc5::Frame> sent;  // every frame put on the air, in order

    // Delivers frames and fires timers until nothing happens before `now + horizon`.
    void run(pc5::Time horizon = 60s) {
        const pc5::Time until = now + horizon;
        for (int guard = 0; guard < 100000; ++guard) {
            if (pump()) continue;
            pc5::Time next = pc5::kNever;
            for (auto* ue : ues_)
                next = std::min(next, ue->next_timeout());
            if (next == pc5::kNever || next > until) break;
            now = std::max(now, next);
            for (auto* ue : ues_)
                if (ue->next_timeout() <= now) ue->handle_timeout(now);
        }
        drain_events();
    }

    // Puts a frame on the air as if someone sent it (an attacker's replay).
    void inject(const pc5::Frame& f) {
        deliver(f);
        run(1s);
    }

    void advance(pc5::Time d) {
        now += d;
        for (auto* ue : ues_)
            if (ue->next_timeout() <= now) ue->handle_timeout(now);
        run(0s);
    }

    std::vector<pc5::Event>& events(const pc5::Endpoint& e) { return events_[&e]; }

    template <class T>
    std::vector<T> events_of(const pc5::Endpoint& e) {
        std::vector<T> out;
        for (const auto& ev : events_[&e])
            if (const auto* t = std::get_if<T>(&ev)) out.push_back(*t);
        return out;
    }

  private:
    bool pump() {
        bool any = false;
        for (auto* ue : ues_) {
            while (auto f = ue->poll_transmit()) {
                any = true;
                sent.push_back(*f);
                if (on_air && !on_air(*f)) continue;
                deliver(*f);
            }
        }
        drain_events();
        return any;
    }
    void deliver(const pc5::Frame& f) {
        for (auto* ue : ues_)
            if (f.dst == pc5::kBroadcastL2Id ? ue->l2_id() != f.src : ue->owns_l2(f.dst))
                ue->receive(f, now);
    }
    void drain_events() {
        for (auto* ue : ues_)
            while (auto e = ue->poll_event())
                events_[ue].push_back(std::move(*e));
    }
    std::vector<pc5::Endpoint*> ues_;
    std::map<const pc5::Endpoint*, std::vector<pc5::Event>> events_;
};

}  // namespace pc5sec::sigauth::test
