#include "protocols/snmp/snmpv2_mib.hpp"

#include "protocols/snmp/object_view.hpp"

namespace openbcpm::snmp {

namespace {

constexpr int32_t kTestAndIncrMax = 2147483647;

ObjectView::Getter constant(Value v) {
    return [v = std::move(v)](const Oid&) -> std::optional<Value> { return v; };
}

// An OCTET STRING into the caller's value, reusing a string it holds.
bool copy_octets(std::string_view from, Value& out) {
    assign_octets(out, from);
    return true;
}

// A read-only scalar fixed from start-up, read into the caller's value.
ObjectView::Object fixed(const Oid& oid, Syntax syntax, Value v) {
    ObjectView::Object o;
    o.oid = oid;
    o.syntax = std::move(syntax);
    o.instances = {Oid{0}};
    auto value = std::make_shared<const Value>(std::move(v));
    o.get = [value](const Oid&) -> std::optional<Value> { return *value; };
    o.read = [value](const Oid&, Value& out) {
        out = *value;  // the same alternative: assigned in place
        return true;
    };
    return o;
}

// A writable DisplayString of the system group.
ObjectView::Object system_string(const Oid& oid, std::string& field, Snmpv2MibState& s) {
    ObjectView::Object o;
    o.oid = oid;
    o.syntax = Syntax::display(255);
    o.access = Access::ReadWrite;
    o.instances = {Oid{0}};
    o.get = [&field](const Oid&) -> std::optional<Value> { return Value(field); };
    o.read = [&field](const Oid&, Value& out) { return copy_octets(field, out); };
    o.commit = [&field, &s](const Oid&, const Value& v) {
        field = std::get<std::string>(v);
        if (s.on_change) s.on_change();
        return true;
    };
    return o;
}

ObjectView::Object counter(uint32_t arc, const uint32_t& field) {
    ObjectView::Object o;
    o.oid = oids::kSnmp.child(arc);
    o.syntax = Syntax::of(Syntax::Type::Counter32);
    o.instances = {Oid{0}};
    o.get = [&field](const Oid&) -> std::optional<Value> { return Value(Counter32{field}); };
    return o;
}

}  // namespace

std::shared_ptr<MibView> make_snmpv2_mib(Snmpv2MibState& s) {
    auto view =
        std::make_shared<ObjectView>(std::vector<Oid>{oids::kSystem, oids::kSnmp, oids::kSnmpSet});
    SystemGroup& sys = s.system;

    view->add(fixed(oids::kSysDescr, Syntax::display(255), sys.descr));
    view->add(fixed(oids::kSysObjectId, Syntax::of(Syntax::Type::ObjectId), sys.object_id));
    view->add_scalar(oids::kSysUpTime, Syntax::of(Syntax::Type::TimeTicks),
                     [&s](const Oid&) -> std::optional<Value> {
                         return Value(TimeTicks{s.uptime ? s.uptime() : 0});
                     });
    view->add(system_string(oids::kSysContact, sys.contact, s));
    view->add(system_string(oids::kSysName, sys.name, s));
    view->add(system_string(oids::kSysLocation, sys.location, s));
    view->add_scalar(oids::kSysServices, Syntax::integer(0, 127), constant(sys.services));
    // The table is fixed from start-up, so it last changed at sysUpTime 0.
    view->add_scalar(oids::kSysOrLastChange, Syntax::of(Syntax::Type::TimeTicks),
                     constant(TimeTicks{0}));

    std::vector<Oid> rows;
    for (uint32_t i = 1; i <= sys.or_entries.size(); ++i)
        rows.push_back(Oid{i});
    const auto entry = [&sys](const Oid& index) -> const SysOrEntry& {
        return sys.or_entries.at(index[0] - 1);
    };
    view->add({oids::kSysOrEntry.child(2),
               Syntax::of(Syntax::Type::ObjectId),
               Access::ReadOnly,
               rows,
               [entry](const Oid& i) -> std::optional<Value> { return Value(entry(i).id); },
               {},
               {},
               {}});
    view->add({oids::kSysOrEntry.child(3),
               Syntax::display(255),
               Access::ReadOnly,
               rows,
               [entry](const Oid& i) -> std::optional<Value> { return Value(entry(i).descr); },
               {},
               {},
               {},
               [entry](const Oid& i, Value& out) { return copy_octets(entry(i).descr, out); }});
    view->add({oids::kSysOrEntry.child(4),
               Syntax::of(Syntax::Type::TimeTicks),
               Access::ReadOnly,
               rows,
               constant(TimeTicks{0}),
               {},
               {},
               {}});

    const SnmpCounters& c = s.counters;
    view->add(counter(1, c.in_pkts));
    view->add(counter(3, c.in_bad_versions));
    view->add(counter(4, c.in_bad_community_names));
    view->add(counter(5, c.in_bad_community_uses));
    view->add(counter(6, c.in_asn_parse_errs));
    ObjectView::Object authen;
    authen.oid = oids::kSnmp.child(30);
    authen.syntax = Syntax::enumerated({1, 2});
    authen.access = Access::ReadWrite;
    authen.instances = {Oid{0}};
    authen.get = [&s](const Oid&) -> std::optional<Value> { return Value(s.enable_authen_traps); };
    authen.commit = [&s](const Oid&, const Value& v) {
        s.enable_authen_traps = std::get<int32_t>(v);
        if (s.on_change) s.on_change();
        return true;
    };
    view->add(std::move(authen));
    view->add(counter(31, c.silent_drops));
    view->add(counter(32, c.proxy_drops));

    // snmpSetSerialNo is a TestAndIncr (SNMPv2-TC): a Set succeeds only with
    // the present value, and then advances it, so that cooperating managers
    // can serialise their Sets.
    ObjectView::Object serial;
    serial.oid = oids::kSnmpSetSerialNo;
    serial.syntax = Syntax::integer(0, kTestAndIncrMax);
    serial.access = Access::ReadWrite;
    serial.instances = {Oid{0}};
    serial.get = [&s](const Oid&) -> std::optional<Value> { return Value(s.set_serial_no); };
    serial.test = [&s](const Oid&, const Value& v) {
        return std::get<int32_t>(v) == s.set_serial_no ? ErrorStatus::NoError
                                                       : ErrorStatus::InconsistentValue;
    };
    serial.commit = [&s](const Oid&, const Value&) {
        s.set_serial_no = s.set_serial_no == kTestAndIncrMax ? 0 : s.set_serial_no + 1;
        return true;
    };
    serial.restore = [&s](const Oid&, const Value& v) {
        s.set_serial_no = std::get<int32_t>(v);
        return true;
    };
    view->add(std::move(serial));
    return view;
}

}  // namespace openbcpm::snmp
