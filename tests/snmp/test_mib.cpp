#include "test_mib.hpp"

namespace openbcpm::snmp::testmib {

namespace {

using Getter = ObjectView::Getter;

// A writable scalar stored in `field`.
ObjectView::Object scalar(uint32_t arc, Syntax syntax, int32_t& field) {
    ObjectView::Object o;
    o.oid = kScalars.child(arc);
    o.syntax = std::move(syntax);
    o.access = Access::ReadWrite;
    o.instances = {Oid{0}};
    o.get = [&field](const Oid&) -> std::optional<Value> { return Value(field); };
    o.commit = [&field](const Oid&, const Value& v) {
        field = std::get<int32_t>(v);
        return true;
    };
    return o;
}

}  // namespace

TestMib::TestMib(uint32_t row_count, bool broken_reads, size_t blob_size)
    : blob(blob_size, 'b'),
      broken(broken_reads),
      view_(std::make_shared<ObjectView>(std::vector<Oid>{kRoot})) {
    rows.resize(row_count);
    std::vector<Oid> all, even;
    for (uint32_t i = 1; i <= row_count; ++i) {
        Row& r = rows[i - 1];
        r.value = static_cast<int32_t>(i % 1001);
        r.name = "row " + std::to_string(i);
        r.count = i * 7u;
        r.big = (uint64_t{1} << 40) + i;
        r.addr = IpAddress{{10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                            static_cast<uint8_t>(i)}};
        r.ticks = i * 100u;
        r.gauge = i % 101;
        r.oid = kEntry.child(kValue).child(i);
        all.push_back(Oid{i});
        if (i % 2 == 0) even.push_back(Oid{i});
    }
    const auto row = [this](const Oid& index) -> Row& { return rows.at(index[0] - 1); };
    const auto column = [&](Column c, Syntax s, std::vector<Oid> instances, Getter get) {
        view_->add({kEntry.child(c),
                    std::move(s),
                    Access::ReadOnly,
                    std::move(instances),
                    std::move(get),
                    {},
                    {},
                    {}});
    };

    ObjectView::Object value{
        kEntry.child(kValue),
        Syntax::integer(0, 1000),
        Access::ReadWrite,
        all,
        [row](const Oid& i) -> std::optional<Value> { return Value(row(i).value); },
        {},
        [row](const Oid& i, const Value& v) {
            row(i).value = std::get<int32_t>(v);
            return true;
        },
        {}};
    view_->add(std::move(value));
    ObjectView::Object name{kEntry.child(kName),
                            Syntax::display(16),
                            Access::ReadWrite,
                            all,
                            [row](const Oid& i) -> std::optional<Value> {
                                if (i[0] % 100 == 0) return Value(NoSuchInstance{});
                                return Value(row(i).name);
                            },
                            {},
                            [row](const Oid& i, const Value& v) {
                                row(i).name = std::get<std::string>(v);
                                return true;
                            },
                            {}};
    view_->add(std::move(name));
    column(kCount, Syntax::of(Syntax::Type::Counter32), all,
           [row](const Oid& i) -> std::optional<Value> { return Value(Counter32{row(i).count}); });
    column(kBig, Syntax::of(Syntax::Type::Counter64), all,
           [row](const Oid& i) -> std::optional<Value> { return Value(Counter64{row(i).big}); });
    column(kAddr, Syntax::of(Syntax::Type::IpAddress), all,
           [row](const Oid& i) -> std::optional<Value> { return Value(row(i).addr); });
    column(kTicks, Syntax::of(Syntax::Type::TimeTicks), all,
           [row](const Oid& i) -> std::optional<Value> { return Value(TimeTicks{row(i).ticks}); });
    Syntax percent = Syntax::of(Syntax::Type::Gauge32);
    percent.max = 100;
    ObjectView::Object gauge{
        kEntry.child(kGauge),
        percent,
        Access::ReadWrite,
        all,
        [row](const Oid& i) -> std::optional<Value> { return Value(Gauge32{row(i).gauge}); },
        {},
        [row](const Oid& i, const Value& v) {
            row(i).gauge = std::get<Gauge32>(v).value;
            return true;
        },
        {}};
    view_->add(std::move(gauge));
    column(kOid, Syntax::of(Syntax::Type::ObjectId), all,
           [row](const Oid& i) -> std::optional<Value> { return Value(row(i).oid); });
    column(kSparse, Syntax::integer(0, 1000000), even, [](const Oid& i) -> std::optional<Value> {
        return Value(static_cast<int32_t>(i[0] * 3));
    });

    view_->add(scalar(kLocked, Syntax::enumerated({0, 1}), locked));
    auto guard = scalar(kGuarded, Syntax::integer(0, 100), guarded);
    guard.test = [this](const Oid&, const Value&) {
        return locked ? ErrorStatus::InconsistentValue : ErrorStatus::NoError;
    };
    view_->add(std::move(guard));
    auto fragile_object = scalar(kFragile, Syntax::integer(0, 100), fragile);
    fragile_object.commit = [this](const Oid&, const Value& v) {
        if (std::get<int32_t>(v) == 13) return false;
        fragile = std::get<int32_t>(v);
        return true;
    };
    view_->add(std::move(fragile_object));
    auto scarce_object = scalar(kScarce, Syntax::integer(0, 100), scarce);
    scarce_object.test = [](const Oid&, const Value& v) {
        return std::get<int32_t>(v) == 99 ? ErrorStatus::ResourceUnavailable : ErrorStatus::NoError;
    };
    view_->add(std::move(scarce_object));
    if (broken) {
        view_->add_scalar(kScalars.child(kBroken), Syntax::integer(0, 1),
                          [](const Oid&) -> std::optional<Value> { return std::nullopt; });
    }
    view_->add(scalar(kMode, Syntax::enumerated({1, 2}), mode));
    view_->add_scalar(kScalars.child(kReadOnly), Syntax::integer(0, 100),
                      [this](const Oid&) -> std::optional<Value> { return Value(read_only); });
    view_->add_scalar(kScalars.child(kBlob), Syntax::octets(0, 65535),
                      [this](const Oid&) -> std::optional<Value> { return Value(blob); });
    auto stubborn_object = scalar(kStubborn, Syntax::integer(0, 100), stubborn);
    stubborn_object.restore = [](const Oid&, const Value&) { return false; };
    view_->add(std::move(stubborn_object));
}

size_t TestMib::walk_size() const {
    const size_t n = rows.size();
    const size_t named = n - n / 100;
    const size_t scalars = broken ? 9 : 8;
    return n * 7 + named + n / 2 + scalars;  // 7 dense columns besides name and sparse
}

}  // namespace openbcpm::snmp::testmib
