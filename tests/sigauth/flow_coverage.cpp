// The test that walks the flow table (docs/solution-b.md, "The flow table"): run with
// PC5SEC_FLOW_COVERAGE=1, the whole sigauth test program is one process, and when it ends every
// row of src/sigauth/flow.cpp must have been taken by some test. ctest runs it so
// (sigauth_flow_table_every_row_reached).
#include <cstdlib>

#include <gtest/gtest.h>

#include "sigauth/impl.hpp"

namespace {

class FlowCoverage : public ::testing::Environment {
  public:
    void TearDown() override {
        const auto rows = pc5sec::sigauth::flow_table();
        const auto hits = pc5sec::sigauth::flow_row_hits();
        std::size_t missed = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (hits[i] != 0) continue;
            ++missed;
            const auto& r = rows[i];
            ADD_FAILURE() << "flow row " << i << " never taken: " << pc5sec::sigauth::name(r.role)
                          << " in state " << pc5sec::sigauth::name(r.state) << ", "
                          << (r.input.local ? pc5sec::sigauth::name(r.input.event)
                                            : pc5sec::codec::message_name(r.input.message))
                          << " (" << r.step << ", " << r.handler << ")";
        }
        std::printf("flow table: %zu rows, %zu taken by the tests\n", rows.size(),
                    rows.size() - missed);
    }
};

const bool registered = [] {
    if (std::getenv("PC5SEC_FLOW_COVERAGE") != nullptr)
        ::testing::AddGlobalTestEnvironment(new FlowCoverage);
    return true;
}();

}  // namespace
