// The SMIv2 text of the product MIB, written from the same layout the agent
// serves: `openbcpm export mib`.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "protocols/snmp/meter_mib.hpp"

namespace openbcpm::snmp::meter {

namespace {

// A quoted DESCRIPTION-like clause, wrapped, with no double quote inside.
void text_clause(std::string& out, const char* keyword, const std::string& text) {
    out += "    ";
    out += keyword;
    out += "\n        \"";
    size_t column = 9;
    size_t i = 0;
    bool first = true;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ')
            ++i;
        size_t j = text.find(' ', i);
        if (j == std::string::npos) j = text.size();
        std::string word = text.substr(i, j - i);
        std::replace(word.begin(), word.end(), '"', '\'');
        if (!first && column + 1 + word.size() > 76) {
            out += "\n         ";
            column = 9;
        } else if (!first) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        first = false;
        i = j;
    }
    out += "\"\n";
}

std::string range(int64_t lo, int64_t hi) {
    return "(" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
}

std::string tc_of(int decimals) {
    switch (decimals) {
        case 1:
            return "BcpmeTenths";
        case 2:
            return "BcpmeHundredths";
        case 3:
            return "BcpmeThousandths";
        default:
            return "Integer32";
    }
}

// The SYNTAX of an object; in a SEQUENCE without its sub-typing.
std::string syntax(const MibObject& o, bool in_sequence) {
    const bool ranged = o.min <= o.max && !in_sequence;
    switch (o.repr) {
        case Representation::Integer:
            return tc_of(o.decimals) + (ranged ? " " + range(o.min, o.max) : "");
        case Representation::Unsigned:
            return "Unsigned32" + (ranged ? " " + range(o.min, o.max) : "");
        case Representation::Energy:
            return "BcpmeEnergy";
        case Representation::Text:
            return "DisplayString" + (ranged ? " (SIZE " + range(o.min, o.max) + ")" : "");
        case Representation::Enumerated: {
            if (in_sequence) return "INTEGER";
            std::string s = "INTEGER {";
            for (size_t i = 0; i < o.enumeration.size(); ++i) {
                s += i ? ",\n                    " : " ";
                s += o.enumeration[i].first + "(" + std::to_string(o.enumeration[i].second) + ")";
            }
            return s + " }";
        }
    }
    return "Integer32";
}

std::string access(const MibObject& o) {
    if (o.notify_only) return "accessible-for-notify";
    return o.write == WriteAs::ReadOnly ? "read-only" : "read-write";
}

struct Def {
    Oid oid;
    int order = 0;  // ties: the SEQUENCE type before its entry
    std::string text;
};

class Writer {
  public:
    explicit Writer(const MeterMib& mib) : mib_(mib) {
        names_[oids::kBcpme] = "bcpme";
        names_[oids::kModule] = "bcpmeMIB";
        for (const MibNode& n : mib.nodes())
            names_[n.oid] = n.name;
        for (const MibTable& t : mib.tables()) {
            names_[t.oid] = t.name;
            names_[t.oid.child(1)] = t.entry;
        }
        for (const MibObject& o : mib.objects())
            names_[o.oid] = o.name;
        for (const MibNotification& n : mib.notifications())
            names_[n.oid] = n.name;
    }

    std::string assignment(const Oid& oid) const {
        std::vector<uint32_t> arcs = oid.arcs();
        const uint32_t last = arcs.back();
        arcs.pop_back();
        const auto parent = names_.find(Oid(arcs));
        if (parent == names_.end())
            throw std::logic_error("SNMP MIB: no name for the parent of " + oid.to_string());
        return "    ::= { " + parent->second + " " + std::to_string(last) + " }\n";
    }

    void node(const MibNode& n) {
        std::string s = n.name + " OBJECT-IDENTITY\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", n.description);
        s += assignment(n.oid);
        defs_.push_back({n.oid, 0, std::move(s)});
    }

    void object(const MibObject& o) {
        std::string s = o.name + " OBJECT-TYPE\n    SYNTAX      " + syntax(o, false) + "\n";
        if (!o.units.empty()) s += "    UNITS       \"" + o.units + "\"\n";
        s += "    MAX-ACCESS  " + access(o) + "\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", o.description);
        s += assignment(o.oid);
        defs_.push_back({o.oid, 0, std::move(s)});
    }

    void table(const MibTable& t) {
        const std::string type =
            std::string(1,
                        static_cast<char>(std::toupper(static_cast<unsigned char>(t.entry[0])))) +
            t.entry.substr(1);
        std::string s = t.name + " OBJECT-TYPE\n    SYNTAX      SEQUENCE OF " + type +
                        "\n    MAX-ACCESS  not-accessible\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", t.description);
        s += assignment(t.oid);
        defs_.push_back({t.oid, 0, std::move(s)});

        s = t.entry + " OBJECT-TYPE\n    SYNTAX      " + type +
            "\n    MAX-ACCESS  not-accessible\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", t.row_description);
        s += "    INDEX       { " + t.index + " }\n";
        s += assignment(t.oid.child(1));
        defs_.push_back({t.oid.child(1), 1, std::move(s)});

        s = type + " ::= SEQUENCE {\n";
        std::vector<std::pair<std::string, std::string>> members = {{t.index, "Integer32"}};
        for (size_t c : t.columns) {
            const MibObject& o = mib_.objects()[c];
            members.emplace_back(o.name, syntax(o, true));
        }
        size_t width = 0;
        for (const auto& m : members)
            width = std::max(width, m.first.size());
        for (size_t i = 0; i < members.size(); ++i) {
            s += "    " + members[i].first + std::string(width + 2 - members[i].first.size(), ' ') +
                 members[i].second + (i + 1 < members.size() ? ",\n" : "\n");
        }
        s += "}\n";
        defs_.push_back({t.oid.child(1), 0, std::move(s)});

        const Oid index = t.oid.child(1).child(1);
        names_[index] = t.index;
        s = t.index + " OBJECT-TYPE\n    SYNTAX      Integer32 " + range(1, t.rows) +
            "\n    MAX-ACCESS  not-accessible\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", "The row number.");
        s += assignment(index);
        defs_.push_back({index, 0, std::move(s)});
    }

    void notification(const MibNotification& n) {
        std::string s = n.name + " NOTIFICATION-TYPE\n    OBJECTS     { ";
        for (size_t i = 0; i < n.objects.size(); ++i)
            s += (i ? ",\n                  " : "") + n.objects[i];
        s += " }\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", n.description);
        s += assignment(n.oid);
        defs_.push_back({n.oid, 0, std::move(s)});
    }

    // One object group per branch of a panel, one notification group per panel.
    void conformance() {
        const Oid groups = oids::kConformance.child(2);
        const char* branch_names[] = {"Alarm",       "VoltageInput", "AuxInput",
                                      "BranchInput", "FlexCircuit",  "Configuration"};
        std::vector<std::string> mandatory, optional;
        for (int panel = 1; panel <= kPanels; ++panel) {
            const std::string pp = "p" + std::to_string(panel);
            const auto base = static_cast<uint32_t>(10 * (panel - 1));
            for (uint32_t arc = 1; arc <= 6; ++arc) {
                const Oid branch = panel_oid(panel).child(arc);
                std::vector<std::string> members;
                for (const MibObject& o : mib_.objects())
                    if (o.oid.starts_with(branch)) members.push_back(o.name);
                if (members.empty()) continue;
                const std::string name = pp + branch_names[arc - 1] + "Group";
                std::string s = name + " OBJECT-GROUP\n    OBJECTS     { ";
                for (size_t i = 0; i < members.size(); ++i)
                    s += (i ? ",\n                  " : "") + members[i];
                s += " }\n    STATUS      current\n";
                text_clause(s, "DESCRIPTION",
                            std::string("The ") + branch_names[arc - 1] + " objects of panel " +
                                std::to_string(panel) + ".");
                const Oid oid = groups.child(base + arc);
                s += assignment(oid);
                defs_.push_back({oid, 0, std::move(s)});
                (panel == 1 ? mandatory : optional).push_back(name);
            }
            const std::string name = pp + "NotificationGroup";
            std::string s = name + " NOTIFICATION-GROUP\n    NOTIFICATIONS { ";
            bool first = true;
            for (const MibNotification& n : mib_.notifications()) {
                if (n.panel != panel) continue;
                s += (first ? "" : ",\n                    ") + n.name;
                first = false;
            }
            s += " }\n    STATUS      current\n";
            text_clause(s, "DESCRIPTION",
                        "The event notifications of panel " + std::to_string(panel) + ".");
            const Oid oid = groups.child(base + 7);
            s += assignment(oid);
            defs_.push_back({oid, 0, std::move(s)});
            (panel == 1 ? mandatory : optional).push_back(name);
        }
        std::string s = "bcpmeCompliance MODULE-COMPLIANCE\n    STATUS      current\n";
        text_clause(s, "DESCRIPTION", "What a BCPME agent implements.");
        s += "    MODULE      -- this module\n        MANDATORY-GROUPS { ";
        for (size_t i = 0; i < mandatory.size(); ++i)
            s += (i ? ",\n                           " : "") + mandatory[i];
        s += " }\n";
        for (const std::string& g : optional) {
            s += "        GROUP       " + g + "\n        DESCRIPTION\n";
            s += "            \"Required of the models with two panels.\"\n";
        }
        const Oid oid = oids::kConformance.child(1).child(1);
        s += assignment(oid);
        defs_.push_back({oid, 0, std::move(s)});
    }

    std::string finish() {
        std::stable_sort(defs_.begin(), defs_.end(), [](const Def& a, const Def& b) {
            return a.oid != b.oid ? a.oid < b.oid : a.order < b.order;
        });
        std::string out;
        for (const Def& d : defs_) {
            out += "\n";
            out += d.text;
        }
        return out;
    }

  private:
    const MeterMib& mib_;
    std::map<Oid, std::string> names_;
    std::vector<Def> defs_;
};

const char* kHeader = R"(-- The SNMP MIB of openbcpm, a software BCPME branch circuit power meter.
-- Generated by `openbcpm export mib` from the meter's point catalogue: the
-- agent serves exactly this layout.

OPENBCPM-BCPME-MIB DEFINITIONS ::= BEGIN

IMPORTS
    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, OBJECT-IDENTITY,
    Integer32, Unsigned32, Counter64, enterprises
        FROM SNMPv2-SMI
    TEXTUAL-CONVENTION, DisplayString
        FROM SNMPv2-TC
    MODULE-COMPLIANCE, OBJECT-GROUP, NOTIFICATION-GROUP
        FROM SNMPv2-CONF;

bcpmeMIB MODULE-IDENTITY
    LAST-UPDATED "202411240000Z"
    ORGANIZATION "openbcpm"
    CONTACT-INFO
        "The openbcpm project. See its README."
    DESCRIPTION
        "The branch circuit power meter: per panel, over-threshold events
         and their notifications, voltage inputs, aux inputs, branch
         inputs, flex (logical) circuits and configuration.

         Measurements are fixed-point numbers (the textual conventions
         below give their decimals); SMIv2 has no floating point. A
         channel or circuit the model does not have is an absent row
         (noSuchInstance), never a made-up value. Settings written
         together in one SetRequest are applied all or none."
    REVISION     "202411240000Z"
    DESCRIPTION
        "First version of the module, generated from the point catalogue."
    ::= { bcpme 3 }

bcpmeVendor   OBJECT IDENTIFIER ::= { enterprises 3833 }
bcpmeProducts OBJECT IDENTIFIER ::= { bcpmeVendor 1 }
bcpme         OBJECT IDENTIFIER ::= { bcpmeProducts 30 }

BcpmeTenths ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "d-1"
    STATUS       current
    DESCRIPTION
        "A fixed-point number in tenths of its unit: 1205 is 120.5."
    SYNTAX       Integer32

BcpmeHundredths ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "d-2"
    STATUS       current
    DESCRIPTION
        "A fixed-point number in hundredths of its unit: 6001 is 60.01."
    SYNTAX       Integer32

BcpmeThousandths ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "d-3"
    STATUS       current
    DESCRIPTION
        "A fixed-point number in thousandths of its unit: 12500 is 12.5."
    SYNTAX       Integer32

BcpmeEnergy ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "d-3"
    STATUS       current
    DESCRIPTION
        "Energy in thousandths of a kWh (watt-hours). It only grows while
         metering, but a reset command clears it, so it is a gauge that
         borrows the Counter64 encoding for its range (as RFC 2856's
         CounterBasedGauge64 does), not a counter."
    SYNTAX       Counter64
)";

}  // namespace

std::string MeterMib::module_text() const {
    Writer w(*this);
    for (const MibNode& n : nodes_)
        w.node(n);
    for (const MibTable& t : tables_)
        w.table(t);
    for (const MibObject& o : objects_)
        w.object(o);
    for (const MibNotification& n : notifications_)
        w.notification(n);
    w.conformance();
    return std::string(kHeader) + w.finish() + "\nEND\n";
}

}  // namespace openbcpm::snmp::meter
