// The test that walks solution B's flow table (docs/solution-b.md, "The engine and its flow
// table"): run with PC5SEC_FLOW_COVERAGE=1, every row of src/sigauth/flow.cpp must have been
// taken by some test of this program (sigauth_flow_table_every_row_reached).
#include "../support/flow_coverage.hpp"
#include "sigauth/impl.hpp"

namespace {

using namespace pc5sec::sigauth;

const bool registered = pc5sec::test::FlowCoverage<FlowRow>::register_if_asked(
    [] { return flow_table(); }, [] { return flow_row_hits(); },
    [](const FlowRow& r) {
        return std::string(name(r.role)) + " in state " + name(r.state) + ", " +
               (r.input.local ? name(r.input.event)
                              : std::string(pc5sec::codec::message_name(r.input.message)));
    });

}  // namespace
