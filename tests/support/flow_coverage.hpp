// The test that walks a flow table (docs/solution-a.md and docs/solution-b.md, "The flow
// table"): with PC5SEC_FLOW_COVERAGE set, the whole test program is one process, and when it ends
// every row must have been taken by some test. Each engine's flow_coverage.cpp registers it with
// its table, its hit counters and how to name a row.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>

#include <gtest/gtest.h>

namespace pc5sec::test {

template <class Row>
class FlowCoverage : public ::testing::Environment {
  public:
    using Table = std::function<std::span<const Row>()>;
    using Hits = std::function<std::span<const std::uint64_t>()>;
    using Describe = std::function<std::string(const Row&)>;
    FlowCoverage(Table table, Hits hits, Describe describe)
        : table_(std::move(table)), hits_(std::move(hits)), describe_(std::move(describe)) {}

    void TearDown() override {
        const auto rows = table_();
        const auto hits = hits_();
        std::size_t missed = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (hits[i] != 0) continue;
            ++missed;
            const auto& r = rows[i];
            ADD_FAILURE() << "flow row " << i << " never taken: " << describe_(r) << " (" << r.step
                          << ", " << r.handler << ")";
        }
        std::printf("flow table: %zu rows, %zu taken by the tests\n", rows.size(),
                    rows.size() - missed);
    }

    // Registers the check when PC5SEC_FLOW_COVERAGE is set (the ctest *_every_row_reached).
    static bool register_if_asked(Table table, Hits hits, Describe describe) {
        if (std::getenv("PC5SEC_FLOW_COVERAGE") != nullptr)
            ::testing::AddGlobalTestEnvironment(
                new FlowCoverage(std::move(table), std::move(hits), std::move(describe)));
        return true;
    }

  private:
    Table table_;
    Hits hits_;
    Describe describe_;
};

}  // namespace pc5sec::test
