// The test that walks solution A's flow table (docs/solution-a.md, "The flow table"): run with
// PC5SEC_FLOW_COVERAGE=1, every row of src/link/flow.cpp must have been taken by some test of
// this program (link_flow_table_every_row_reached).
#include "../support/flow_coverage.hpp"
#include "link/impl.hpp"

namespace {

using namespace pc5sec::link;

const bool registered = pc5sec::test::FlowCoverage<FlowRow>::register_if_asked(
    [] { return flow_table(); }, [] { return flow_row_hits(); },
    [](const FlowRow& r) {
        return std::string("state ") + name(r.state) + ", " +
               (r.input.local ? name(r.input.event)
                              : std::string(pc5sec::codec::message_name(r.input.message)));
    });

}  // namespace
