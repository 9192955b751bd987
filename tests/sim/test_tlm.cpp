// The chip's TLM-2.0 protocol (sim/tlm/protocol.h, docs/chip.md "TLM-2.0 protocol"), module by
// module, driven by a plain TLM-2.0 initiator that knows only the protocol: the interconnect
// routes, delays, forwards and drops; tiles and neuron arrays take their messages and answer
// protocol errors with the documented response statuses. Each test runs in its own process.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/crossbar/crossbar.h"
#include "sim/interconnect/interconnect.h"
#include "sim/kernel/systemc_errors.h"
#include "sim/neuron/neuron_array.h"
#include "sim/tlm/protocol.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/components.h"

namespace nfsim::sim {
namespace {

using tlmx::MessageExtension;

// Sends payloads the way any TLM-2.0 initiator would.
struct Sender : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Sender> out{"out"};
  explicit Sender(sc_core::sc_module_name n) : sc_core::sc_module(n) {}
};

// Records what arrives (address as seen by the target, values, delay on arrival).
struct Receiver : sc_core::sc_module {
  tlm_utils::simple_target_socket<Receiver> in{"in"};
  std::vector<std::uint64_t> addresses;
  std::vector<std::vector<double>> values;
  std::vector<double> arrival_ns;
  explicit Receiver(sc_core::sc_module_name n) : sc_core::sc_module(n) {
    in.register_b_transport(this, &Receiver::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    addresses.push_back(t.get_address());
    const auto* d = reinterpret_cast<const double*>(t.get_data_ptr());
    values.emplace_back(d, d + t.get_data_length() / sizeof(double));
    arrival_ns.push_back(delay.to_seconds() * 1e9);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// One message's payload with its extension (owned by the payload).
struct Message {
  tlm::tlm_generic_payload payload;
  MessageExtension* ext = new MessageExtension;
  std::vector<double> data;
  Message(int target, std::uint64_t offset_values, std::vector<double> values, int src_core, int dst_core) : data(std::move(values)) {
    payload.set_extension(ext);
    payload.set_command(tlm::TLM_WRITE_COMMAND);
    payload.set_address(tlmx::address(target, offset_values * sizeof(double)));
    payload.set_data_ptr(reinterpret_cast<unsigned char*>(data.data()));
    payload.set_data_length(static_cast<unsigned>(data.size() * sizeof(double)));
    payload.set_streaming_width(static_cast<unsigned>(data.size() * sizeof(double)));
    payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    ext->src_core = src_core;
    ext->dst_core = dst_core;
    ext->count = static_cast<int>(data.size());
  }
};

ChipTopology mesh3x3(const std::string& interconnect = "{type: mesh, hop_latency_ns: 5, flit_bytes: 16, flit_latency_ns: 1}") {
  return parse_topology(YAML::Load("cores: {count: 9, layout: {type: mesh, width: 3, height: 3}}\n"
                                   "crossbar: {type: ideal, rows: 4, cols: 4, read_latency_ns: 100}\n"
                                   "neuron_array: {type: rate, size: 4, update_latency_ns: 20}\n"
                                   "interconnect: " + interconnect + "\n"),
                        "mesh.yaml");
}

// A sender wired through an interconnect of `topo` to `receivers` receivers (target ids 0, 1, ..),
// elaborated; send() returns the arrival time in ns of a message sent at 0.
struct Noc {
  std::unique_ptr<IInterconnectModel> model;
  Sender sender{"sender"};
  Interconnect noc;
  std::vector<std::unique_ptr<Receiver>> r;
  Noc(const ChipTopology& topo, int receivers) : model(make_interconnect(topo)), noc("noc", *model) {
    sender.out.bind(noc.in);
    for (int i = 0; i < receivers; ++i) {
      r.push_back(std::make_unique<Receiver>(("r" + std::to_string(i)).c_str()));
      noc.out.bind(r.back()->in);
    }
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
  }
  double send(Message& m) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    sender.out->b_transport(m.payload, d);
    return d.to_seconds() * 1e9;
  }
};

// Fault-tolerant routing on the 3x3 mesh (docs/chip.md, "Routing around dead routers"):
//   0 1 2
//   3 4 5
//   6 7 8
TEST(MeshRouting, DetoursAreShortestLivePathsChosenDeterministically) {
  const auto mesh = make_interconnect(mesh3x3("{type: mesh, routing: fault_tolerant}"));
  ASSERT_TRUE(mesh->reroutes());
  auto dead = [](std::initializer_list<int> rs) {
    std::vector<char> d(9, 0);
    for (int r : rs) d[static_cast<std::size_t>(r)] = 1;
    return d;
  };
  std::vector<int> route;
  // An XY route with no dead router is kept.
  ASSERT_TRUE(mesh->route_around(0, 8, dead({4}), route));
  EXPECT_EQ(route, (std::vector<int>{0, 1, 2, 5, 8}));
  // 0 -> 2 around 1: y away (down), then x towards, then back up.
  ASSERT_TRUE(mesh->route_around(0, 2, dead({1}), route));
  EXPECT_EQ(route, (std::vector<int>{0, 3, 4, 5, 2}));
  // 3 -> 5 around 4: x towards is dead, y is aligned: +y before -y.
  ASSERT_TRUE(mesh->route_around(3, 5, dead({4}), route));
  EXPECT_EQ(route, (std::vector<int>{3, 6, 7, 8, 5}));
  // 8 -> 0 around 7: as short as the XY route.
  ASSERT_TRUE(mesh->route_around(8, 0, dead({7}), route));
  EXPECT_EQ(route, (std::vector<int>{8, 5, 4, 3, 0}));
  // Unroutable: an end router dead, or no live path (0 cut off by 1 and 3).
  EXPECT_FALSE(mesh->route_around(0, 2, dead({2}), route));
  EXPECT_FALSE(mesh->route_around(0, 8, dead({1, 3}), route));
  EXPECT_TRUE(mesh->route_around(2, 8, dead({1, 3}), route));
  // XY routing never detours.
  const auto xy = make_interconnect(mesh3x3("{type: mesh}"));
  EXPECT_FALSE(xy->reroutes());
  EXPECT_FALSE(xy->route_around(0, 2, dead({1}), route));
  EXPECT_EQ(mesh->router_links()[4], (std::vector<int>{5, 3, 7, 1}));
  // The order of preference on a 3 x 4 mesh, 1 -> 11 around 7 and 8: from 1 x towards (2) is
  // no closer, y towards (4) is; from 4 y towards (7) is dead, x away (3) is closer; then down
  // the left column and along the bottom row.
  const auto tall = make_interconnect(parse_topology(YAML::Load("cores: {count: 12, layout: {type: mesh, width: 3, height: 4}}\n"
                                                                  "interconnect: {type: mesh, routing: fault_tolerant}\n"),
                                                     "tall.yaml"));
  std::vector<char> d(12, 0);
  d[7] = d[8] = 1;
  ASSERT_TRUE(tall->route_around(1, 11, d, route));
  EXPECT_EQ(route, (std::vector<int>{1, 4, 3, 6, 9, 10, 11}));
}

TEST(TlmInterconnect, RoutesDelaysAndForwardsWithTheOffsetOnly) {
  Noc n(mesh3x3(), 2);
  Receiver &r0 = *n.r[0], &r1 = *n.r[1];
  // Core 0 (0,0) to core 8 (2,2): XY route through 5 routers; 3 values = 24 bytes = 2 flits.
  Message m(1, 2, {1.5, -2.0, 3.25}, 0, 8);
  sc_core::sc_time delay(7, sc_core::SC_NS);
  n.sender.out->b_transport(m.payload, delay);
  EXPECT_TRUE(m.payload.is_response_ok());
  EXPECT_TRUE(m.ext->delivered);
  EXPECT_DOUBLE_EQ(delay.to_seconds() * 1e9, 7 + 5 * 5 + 2 * 1);
  ASSERT_EQ(r1.values.size(), 1u);
  EXPECT_TRUE(r0.values.empty());
  EXPECT_EQ(r1.addresses[0], 2 * sizeof(double));  // the target sees its offset
  EXPECT_EQ(r1.values[0], (std::vector<double>{1.5, -2.0, 3.25}));
  EXPECT_DOUBLE_EQ(r1.arrival_ns[0], 34.0);
  EXPECT_EQ(m.payload.get_address(), tlmx::address(1, 16));  // restored for the sender
  EXPECT_EQ(n.noc.messages(), 1u);
  EXPECT_EQ(n.noc.hops(), 5u);

  // A dead router on the route (router 2 = (2,0)) drops it: not forwarded, delivered = false,
  // answered OK (a posted write that never arrives), the time on the wire still spent.
  n.noc.fail_router(2);
  Message dropped(1, 0, {9.0}, 0, 8);
  EXPECT_DOUBLE_EQ(n.send(dropped), 5 * 5 + 1);
  EXPECT_TRUE(dropped.payload.is_response_ok());
  EXPECT_FALSE(dropped.ext->delivered);
  EXPECT_EQ(r1.values.size(), 1u);
  // Off the dead router's path (core 3 (0,1) to core 6 (0,2)) it arrives.
  Message other(0, 0, {4.0}, 3, 6);
  n.send(other);
  EXPECT_TRUE(other.ext->delivered);
  EXPECT_EQ(r0.values.size(), 1u);
  n.noc.clear_faults();
  Message again(1, 0, {9.0}, 0, 8);
  n.send(again);
  EXPECT_TRUE(again.ext->delivered);
}

TEST(TlmInterconnect, AnswersProtocolErrors) {
  Noc n(mesh3x3(), 1);
  Message unknown(5, 0, {1.0}, 0, 1);  // no target 5
  n.send(unknown);
  EXPECT_EQ(unknown.payload.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  Message bare(0, 0, {1.0}, 0, 1);
  bare.payload.clear_extension(bare.ext);
  delete bare.ext;
  n.send(bare);
  EXPECT_EQ(bare.payload.get_response_status(), tlm::TLM_GENERIC_ERROR_RESPONSE);
  EXPECT_TRUE(n.r[0]->values.empty());
  EXPECT_THROW(tlmx::check_response(bare.payload, "the test"), SimulationError);
  try {
    tlmx::check_response(unknown.payload, "the test");
  } catch (const SimulationError& e) {
    EXPECT_NE(std::string(e.what()).find("TLM_ADDRESS_ERROR_RESPONSE"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("from the test to target 5"), std::string::npos) << e.what();
  }
}

// Contention computed by hand. Mesh 3x3, 5 ns per router, 16-byte flits at 1 ns, links of 8
// bytes/ns; four messages sent at t = 0, in this order:
//   A core 0 -> 2, 64 B: links 0->1, 1->2 free; holds them 8 ns; arrives 3 x 5 + 4 x 1 = 19.
//   B core 1 -> 2, 32 B: link 1->2 busy until 8; starts at 8, arrives 8 + 2 x 5 + 2 = 20.
//   C core 3 -> 5, 8 B: its links are free; arrives 3 x 5 + 1 = 16.
//   D core 0 -> 1, 8 B: link 0->1 busy until 8; arrives 8 + 2 x 5 + 1 = 19.
// Busy: 0->1 8 + 1, 1->2 8 + 4, 3->4 1, 4->5 1; waits 8 + 8.
TEST(TlmInterconnect, MessagesSharingALinkAreSerialised) {
  Noc n(mesh3x3("{type: mesh, hop_latency_ns: 5, flit_bytes: 16, flit_latency_ns: 1, link_bandwidth_bytes_per_ns: 8}"), 1);
  Interconnect& noc = n.noc;
  auto arrival = [&](int src, int dst, int values) {
    Message m(0, 0, std::vector<double>(static_cast<std::size_t>(values), 1.0), src, dst);
    const double at = n.send(m);
    EXPECT_TRUE(m.ext->delivered);
    return at;
  };
  EXPECT_DOUBLE_EQ(arrival(0, 2, 8), 19.0);
  EXPECT_DOUBLE_EQ(arrival(1, 2, 4), 20.0);
  EXPECT_DOUBLE_EQ(arrival(3, 5, 1), 16.0);
  EXPECT_DOUBLE_EQ(arrival(0, 1, 1), 19.0);
  EXPECT_DOUBLE_EQ(noc.wait_ns(), 16.0);
  std::map<std::string, double> busy;
  for (const auto& l : noc.link_busy()) busy[l.name] = l.busy_ns;
  const std::map<std::string, double> want{{"router 0 -> router 1", 9.0},
                                           {"router 1 -> router 2", 12.0},
                                           {"router 3 -> router 4", 1.0},
                                           {"router 4 -> router 5", 1.0}};
  ASSERT_EQ(busy.size(), want.size());
  for (const auto& [name, ns] : want) EXPECT_NEAR(busy[name], ns, 1e-9) << name;
  noc.reset_counters();
  EXPECT_TRUE(noc.link_busy().empty());
  EXPECT_DOUBLE_EQ(noc.wait_ns(), 0.0);
}

// A bus with a bandwidth carries one message at a time: two 80-byte messages at 10 bytes/ns,
// sent together, arrive at 10 ns (latency) and 8 + 10 ns.
TEST(TlmInterconnect, ABusWithABandwidthCarriesOneMessageAtATime) {
  Noc n(mesh3x3("{type: bus, latency_ns: 10, bandwidth_bytes_per_ns: 10}"), 1);
  const Interconnect& noc = n.noc;
  Message a(0, 0, std::vector<double>(10, 1.0), 0, 5), b(0, 0, std::vector<double>(10, 2.0), 3, 1);
  EXPECT_DOUBLE_EQ(n.send(a), 10.0);
  EXPECT_DOUBLE_EQ(n.send(b), 18.0);
  // A message longer than the latency arrives when its last byte has crossed: 800 bytes at
  // 10 bytes/ns, sent at 0 on a bus busy until 16 ns, arrive at 16 + 80.
  Message c(0, 0, std::vector<double>(100, 3.0), 2, 4);
  EXPECT_DOUBLE_EQ(n.send(c), 96.0);
  // A new inference starts with the bus free.
  n.noc.begin_inference();
  Message d(0, 0, std::vector<double>(1, 4.0), 2, 4);
  EXPECT_DOUBLE_EQ(n.send(d), 10.0);
  ASSERT_EQ(noc.link_busy().size(), 1u);
  EXPECT_EQ(noc.link_busy()[0].name, "bus");
  EXPECT_NEAR(noc.link_busy()[0].busy_ns, 16.0 + 80.0 + 0.8, 1e-9);
}

TEST(TlmTargets, TileTakesItsInputAndMarksTheRowsAMessageBrought) {
  const ChipTopology topo = mesh3x3();
  Sender sender("sender");
  // A 2-output x 4-input tile whose rows are the layer's inputs 8..11.
  Crossbar tile("tile", Eigen::MatrixXd::Ones(2, 4), make_crossbar_model(topo), 0, sc_core::sc_time(100, sc_core::SC_NS), 0, 8);
  Receiver sink("sink");  // where the tile's partial sums would go
  sender.out.bind(tile.in);
  tile.out.bind(sink.in);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  tile.begin_inference();
  Message m(0, 1, {2.0, 3.0}, 0, 1);  // local rows 1 and 2 = inputs 9, 10
  m.ext->first = 9;
  m.ext->count = 2;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  sender.out->b_transport(m.payload, d);
  ASSERT_TRUE(m.payload.is_response_ok());
  EXPECT_EQ(tile.input(), Eigen::Vector4d(0.0, 2.0, 3.0, 0.0));
  EXPECT_EQ(tile.rows_delivered(), (std::vector<char>{0, 1, 1, 0}));
  EXPECT_FALSE(tile.all_rows_delivered());
  Eigen::VectorXd partial;
  tile.read(tile.input(), partial, d);
  EXPECT_EQ(partial, Eigen::Vector2d(5.0, 5.0));
  EXPECT_DOUBLE_EQ(d.to_seconds() * 1e9, 100.0);
  // A new inference starts from zeros: a message that never comes leaves its inputs at 0.
  tile.begin_inference();
  EXPECT_EQ(tile.input(), Eigen::Vector4d::Zero());
  // Past the buffer, a read command: the documented error statuses, nothing written.
  Message past(0, 3, {1.0, 1.0}, 0, 1);
  sender.out->b_transport(past.payload, d);
  EXPECT_EQ(past.payload.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  Message read(0, 0, {1.0}, 0, 1);
  read.payload.set_command(tlm::TLM_READ_COMMAND);
  sender.out->b_transport(read.payload, d);
  EXPECT_EQ(read.payload.get_response_status(), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(tile.input(), Eigen::Vector4d::Zero());
}

TEST(TlmTargets, ArrayAddsConvPartialSumsChannelByChannelAtTheirPositions) {
  const ChipTopology topo = mesh3x3();
  Sender sender("sender");
  // 2 channels x 5 positions; identity activation, so the output is z.
  NeuronArray array("array", Eigen::VectorXd::Constant(10, 0.5), models::Activation{}, make_neuron_model(topo),
                    sc_core::sc_time(20, sc_core::SC_NS), 5);
  Receiver sink("sink");
  sender.out.bind(array.in);
  array.out.bind(sink.in);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  array.begin();
  // Positions 2..4 of channels 0 and 1: neuron 2 on, 3 values per channel.
  Message m(0, 2, {1, 2, 3, 10, 20, 30}, 0, 1);
  m.ext->positions = 3;
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  sender.out->b_transport(m.payload, d);
  ASSERT_TRUE(m.payload.is_response_ok());
  array.fire(d);
  Eigen::VectorXd want = Eigen::VectorXd::Constant(10, 0.5);
  want.segment(2, 3) += Eigen::Vector3d(1, 2, 3);
  want.segment(7, 3) += Eigen::Vector3d(10, 20, 30);
  EXPECT_EQ(array.output(), want);
  // A message whose last channel would run past the array is refused whole.
  Message past(0, 4, {1, 2, 3, 4}, 0, 1);
  past.ext->positions = 2;
  sender.out->b_transport(past.payload, d);
  EXPECT_EQ(past.payload.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

}  // namespace
}  // namespace nfsim::sim
