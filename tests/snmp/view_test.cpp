#include <gtest/gtest.h>

#include <chrono>

#include "protocols/snmp/object_view.hpp"
#include "test_mib.hpp"

namespace openbcpm::snmp {
namespace {

// A read-only view with one integer scalar per given object OID (instance .0).
std::shared_ptr<ObjectView> scalars(std::vector<Oid> subtrees, const std::vector<Oid>& objects) {
    auto v = std::make_shared<ObjectView>(std::move(subtrees));
    for (const Oid& o : objects) {
        const auto tag = static_cast<int32_t>(o[o.size() - 1]);
        v->add_scalar(o, Syntax::integer(0, 1000),
                      [tag](const Oid&) -> std::optional<Value> { return Value(tag); });
    }
    return v;
}

std::vector<Oid> walk(MibView& view, Oid from = Oid{0, 0}) {
    std::vector<Oid> names;
    while (auto next = view.next_after(from)) {
        from = next->binding.name;
        names.push_back(from);
    }
    return names;
}

TEST(SnmpSyntax, ChecksTypeLengthAndValue) {
    EXPECT_EQ(check_syntax(Syntax::integer(0, 10), int32_t{5}), ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::integer(0, 10), int32_t{11}), ErrorStatus::WrongValue);
    EXPECT_EQ(check_syntax(Syntax::integer(0, 10), std::string("5")), ErrorStatus::WrongType);
    EXPECT_EQ(check_syntax(Syntax::integer(0, 10), Gauge32{5}), ErrorStatus::WrongType);
    EXPECT_EQ(check_syntax(Syntax::enumerated({1, 2}), int32_t{3}), ErrorStatus::WrongValue);
    EXPECT_EQ(check_syntax(Syntax::enumerated({1, 2}), int32_t{2}), ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::display(4), std::string("abcd")), ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::display(4), std::string("abcde")), ErrorStatus::WrongLength);
    EXPECT_EQ(check_syntax(Syntax::display(4), std::string("\xC3\xA9")), ErrorStatus::WrongValue);
    EXPECT_EQ(check_syntax(Syntax::octets(4, 4), std::string("\xC3\xA9\x00\x01", 4)),
              ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::octets(4, 4), std::string("abc")), ErrorStatus::WrongLength);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::IpAddress), IpAddress{}), ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::IpAddress), std::string("abcd")),
              ErrorStatus::WrongType);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::ObjectId), Oid{1, 3}), ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::Gauge32), Gauge32{0xFFFFFFFF}),
              ErrorStatus::NoError);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::Counter64), Counter32{1}),
              ErrorStatus::WrongType);
    EXPECT_EQ(check_syntax(Syntax::of(Syntax::Type::TimeTicks), NoSuchObject{}),
              ErrorStatus::WrongType);
}

TEST(SnmpObjectView, RejectsObjectsOutsideItsSubtreesOrNested) {
    ObjectView v({Oid{1, 3, 6, 1, 3}});
    const auto get = [](const Oid&) -> std::optional<Value> { return Value(int32_t{0}); };
    EXPECT_THROW(v.add_scalar(Oid{1, 3, 6, 1, 4, 1}, Syntax{}, get), std::invalid_argument);
    v.add_scalar(Oid{1, 3, 6, 1, 3, 1}, Syntax{}, get);
    EXPECT_THROW(v.add_scalar(Oid{1, 3, 6, 1, 3, 1, 1}, Syntax{}, get), std::invalid_argument);
    EXPECT_THROW(v.add_scalar(Oid{1, 3, 6, 1, 3}, Syntax{}, get), std::invalid_argument);
    ObjectView::Object no_get{
        Oid{1, 3, 6, 1, 3, 2}, Syntax{}, Access::ReadOnly, {Oid{0}}, {}, {}, {}, {}};
    EXPECT_THROW(v.add(no_get), std::invalid_argument);
}

TEST(SnmpObjectView, AWritableObjectWithoutCommitFailsItsCommitAndUndoesTheOthers) {
    ObjectView v({Oid{1, 3, 6, 1, 3}});
    int32_t kept = 1;
    ObjectView::Object committed{Oid{1, 3, 6, 1, 3, 1},
                                 Syntax::integer(0, 100),
                                 Access::ReadWrite,
                                 {Oid{0}},
                                 [&](const Oid&) -> std::optional<Value> { return Value(kept); },
                                 {},
                                 [&](const Oid&, const Value& x) {
                                     kept = std::get<int32_t>(x);
                                     return true;
                                 },
                                 {}};
    v.add(committed);
    // Left to a subclass's commit(); the base view cannot apply it.
    v.add({Oid{1, 3, 6, 1, 3, 2},
           Syntax::integer(0, 100),
           Access::ReadWrite,
           {Oid{0}},
           [](const Oid&) -> std::optional<Value> { return Value(int32_t{0}); },
           {},
           {},
           {}});
    const VarBind a{Oid{1, 3, 6, 1, 3, 1, 0}, int32_t{7}};
    const VarBind b{Oid{1, 3, 6, 1, 3, 2, 0}, int32_t{8}};
    const SetItem items[] = {{1, &a}, {2, &b}};
    EXPECT_TRUE(v.test(items).ok());
    const SetError e = v.commit(items);
    EXPECT_EQ(e.status, ErrorStatus::CommitFailed);
    EXPECT_EQ(e.index, 2u);
    EXPECT_EQ(kept, 1);
}

TEST(SnmpObjectView, GetTellsNoSuchObjectFromNoSuchInstance) {
    testmib::TestMib mib(10);
    MibView& v = *mib.view();
    EXPECT_EQ(v.get(testmib::kEntry.child(testmib::kValue).child(3)).value, Value(int32_t{3}));
    EXPECT_EQ(v.get(testmib::kEntry.child(testmib::kValue).child(11)).value,
              Value(NoSuchInstance{}));
    EXPECT_EQ(v.get(testmib::kEntry.child(testmib::kValue)).value, Value(NoSuchInstance{}));
    EXPECT_EQ(v.get(testmib::kEntry.child(testmib::kValue).child(3).child(0)).value,
              Value(NoSuchInstance{}));
    EXPECT_EQ(v.get(testmib::kEntry.child(testmib::kSparse).child(3)).value,
              Value(NoSuchInstance{}));
    EXPECT_EQ(v.get(testmib::kEntry.child(99).child(1)).value, Value(NoSuchObject{}));
    EXPECT_EQ(v.get(testmib::kEntry).value, Value(NoSuchObject{}));
    EXPECT_EQ(v.get(testmib::kScalars.child(testmib::kReadOnly).child(0)).value,
              Value(int32_t{42}));
    EXPECT_EQ(v.get(testmib::kScalars.child(testmib::kReadOnly).child(1)).value,
              Value(NoSuchInstance{}));
}

TEST(SnmpObjectView, WalksInOrderSkippingAbsentInstances) {
    testmib::TestMib mib(250);
    MibView& v = *mib.view();
    const auto names = walk(v);
    EXPECT_EQ(names.size(), mib.walk_size());
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
    // The name column has no row 100 and 200 at the moment.
    const Oid name = testmib::kEntry.child(testmib::kName);
    EXPECT_EQ(v.next_after(name.child(99))->binding.name, name.child(101));
    // Between columns and from inside an instance's subtree.
    EXPECT_EQ(v.next_after(testmib::kEntry.child(testmib::kValue).child(250))->binding.name,
              name.child(1));
    EXPECT_EQ(v.next_after(name.child(5).child(7))->binding.name, name.child(6));
    EXPECT_EQ(v.next_after(testmib::kRoot)->binding.name,
              testmib::kEntry.child(testmib::kValue).child(1));
    EXPECT_FALSE(v.next_after(testmib::kScalars.child(testmib::kStubborn).child(0)));
    EXPECT_FALSE(v.next_after(Oid{1, 3, 6, 1, 4}));
}

TEST(SnmpObjectView, AWalkOfManyInstancesIsNotQuadratic) {
    testmib::TestMib mib(20000);  // 180 thousand instances
    const auto start = std::chrono::steady_clock::now();
    const auto names = walk(*mib.view());
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(names.size(), mib.walk_size());
    // n log n takes well under a second even unoptimised; n^2 would take hours.
    EXPECT_LT(took, std::chrono::seconds(20));
}

TEST(SnmpCompositeView, MergesViewsInOidOrder) {
    // Two views whose subtrees interleave: a has .1 and .3, b has .2.
    auto a =
        scalars({Oid{1, 3, 6, 1, 3, 1}, Oid{1, 3, 6, 1, 3, 3}},
                {Oid{1, 3, 6, 1, 3, 1, 1}, Oid{1, 3, 6, 1, 3, 1, 2}, Oid{1, 3, 6, 1, 3, 3, 1}});
    auto b = scalars({Oid{1, 3, 6, 1, 3, 2}}, {Oid{1, 3, 6, 1, 3, 2, 1}, Oid{1, 3, 6, 1, 3, 2, 2}});
    CompositeView c;
    c.add(a);
    c.add(b);
    EXPECT_EQ(walk(c), (std::vector<Oid>{Oid{1, 3, 6, 1, 3, 1, 1, 0}, Oid{1, 3, 6, 1, 3, 1, 2, 0},
                                         Oid{1, 3, 6, 1, 3, 2, 1, 0}, Oid{1, 3, 6, 1, 3, 2, 2, 0},
                                         Oid{1, 3, 6, 1, 3, 3, 1, 0}}));
    EXPECT_EQ(c.get(Oid{1, 3, 6, 1, 3, 2, 2, 0}).value, Value(int32_t{2}));
    EXPECT_EQ(c.get(Oid{1, 3, 6, 1, 3, 2, 3, 0}).value, Value(NoSuchObject{}));
    EXPECT_EQ(c.get(Oid{1, 3, 6, 1, 3, 4}).value, Value(NoSuchObject{}));
    EXPECT_EQ(c.get(Oid{1, 3}).value, Value(NoSuchObject{}));
    EXPECT_EQ(c.next_after(Oid{1, 3, 6, 1, 3, 1, 9})->binding.name, (Oid{1, 3, 6, 1, 3, 2, 1, 0}));
    EXPECT_EQ(c.subtrees().size(), 3u);
}

TEST(SnmpCompositeView, RefusesOverlappingViews) {
    CompositeView c;
    c.add(scalars({Oid{1, 3, 6, 1, 3, 1}}, {}));
    EXPECT_THROW(c.add(scalars({Oid{1, 3, 6, 1, 3, 1, 5}}, {})), std::invalid_argument);
    EXPECT_THROW(c.add(scalars({Oid{1, 3, 6, 1, 3}}, {})), std::invalid_argument);
    c.add(scalars({Oid{1, 3, 6, 1, 3, 10}}, {}));
    EXPECT_EQ(c.subtrees().size(), 2u);
}

}  // namespace
}  // namespace openbcpm::snmp
