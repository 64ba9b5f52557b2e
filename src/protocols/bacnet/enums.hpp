// Numbers of ASHRAE 135 that the BACnet face speaks: object types, property
// identifiers, services, error classes and codes, reject and abort reasons.
// Only the values this meter uses or must recognise are named.
#pragma once

#include <cstdint>

namespace openbcpm::bacnet {

enum class ObjectType : uint16_t {
    AnalogInput = 0,
    AnalogOutput = 1,
    AnalogValue = 2,
    BinaryInput = 3,
    BinaryOutput = 4,
    BinaryValue = 5,
    Device = 8,
    MultiStateInput = 13,
    NotificationClass = 15,
};
inline constexpr uint16_t kMaxObjectType = 1023;
// Length of Protocol_Object_Types_Supported at Protocol_Revision 12 (types 0..50).
inline constexpr int kObjectTypesKnown = 51;
inline constexpr uint32_t kMaxInstance = 0x3FFFFF;  // 4194303 is the "unconfigured" wildcard

enum class PropertyId : uint32_t {
    AckedTransitions = 0,
    AckRequired = 1,
    ActiveCovSubscriptions = 152,
    All = 8,
    ApduSegmentTimeout = 10,
    ApduTimeout = 11,
    ApplicationSoftwareVersion = 12,
    CovIncrement = 22,
    DatabaseRevision = 155,
    Deadband = 25,
    Description = 28,
    DeviceAddressBinding = 30,
    EventEnable = 35,
    EventState = 36,
    EventTimeStamps = 130,
    FirmwareRevision = 44,
    HighLimit = 45,
    LimitEnable = 52,
    LocalDate = 56,
    LocalTime = 57,
    Location = 58,
    LowLimit = 59,
    MaxApduLengthAccepted = 62,
    MaxInfoFrames = 63,
    MaxMaster = 64,
    MaxPresValue = 65,
    MaxSegmentsAccepted = 167,
    MinPresValue = 69,
    ModelName = 70,
    NotificationClass = 17,
    NotifyType = 72,
    NumberOfApduRetries = 73,
    ObjectIdentifier = 75,
    ObjectList = 76,
    ObjectName = 77,
    ObjectType = 79,
    Optional = 80,
    OutOfService = 81,
    PresentValue = 85,
    Priority = 86,
    PriorityArray = 87,
    ProtocolObjectTypesSupported = 96,
    ProtocolRevision = 139,
    ProtocolServicesSupported = 97,
    ProtocolVersion = 98,
    RecipientList = 102,
    Reliability = 103,
    RelinquishDefault = 104,
    Required = 105,
    SegmentationSupported = 107,
    StatusFlags = 111,
    SystemStatus = 112,
    TimeDelay = 113,
    Units = 117,
    UtcOffset = 119,
    VendorIdentifier = 120,
    VendorName = 121,
    DaylightSavingsStatus = 24,
    Resolution = 106,
};
inline constexpr uint32_t kMaxPropertyId = 0x3FFFFF;

// Confirmed service choices (clause 21, BACnetConfirmedServiceChoice).
enum class ConfirmedService : uint8_t {
    AcknowledgeAlarm = 0,
    ConfirmedCovNotification = 1,
    ConfirmedEventNotification = 2,
    GetAlarmSummary = 3,
    GetEnrollmentSummary = 4,
    SubscribeCov = 5,
    AtomicReadFile = 6,
    AtomicWriteFile = 7,
    AddListElement = 8,
    RemoveListElement = 9,
    CreateObject = 10,
    DeleteObject = 11,
    ReadProperty = 12,
    ReadPropertyMultiple = 14,
    WriteProperty = 15,
    WritePropertyMultiple = 16,
    DeviceCommunicationControl = 17,
    ConfirmedPrivateTransfer = 18,
    ConfirmedTextMessage = 19,
    ReinitializeDevice = 20,
    VtOpen = 21,
    VtClose = 22,
    VtData = 23,
    ReadRange = 26,
    LifeSafetyOperation = 27,
    SubscribeCovProperty = 28,
    GetEventInformation = 29,
};

enum class UnconfirmedService : uint8_t {
    IAm = 0,
    IHave = 1,
    UnconfirmedCovNotification = 2,
    UnconfirmedEventNotification = 3,
    UnconfirmedPrivateTransfer = 4,
    UnconfirmedTextMessage = 5,
    TimeSynchronization = 6,
    WhoHas = 7,
    WhoIs = 8,
    UtcTimeSynchronization = 9,
};

// Bit numbers of BACnetServicesSupported (Protocol_Services_Supported).
namespace service_bit {
inline constexpr int kAcknowledgeAlarm = 0;
inline constexpr int kConfirmedCovNotification = 1;
inline constexpr int kConfirmedEventNotification = 2;
inline constexpr int kSubscribeCov = 5;
inline constexpr int kAddListElement = 8;
inline constexpr int kRemoveListElement = 9;
inline constexpr int kReadProperty = 12;
inline constexpr int kReadPropertyMultiple = 14;
inline constexpr int kWriteProperty = 15;
inline constexpr int kWritePropertyMultiple = 16;
inline constexpr int kDeviceCommunicationControl = 17;
inline constexpr int kReinitializeDevice = 20;
inline constexpr int kIAm = 26;
inline constexpr int kIHave = 27;
inline constexpr int kUnconfirmedCovNotification = 28;
inline constexpr int kUnconfirmedEventNotification = 29;
inline constexpr int kTimeSynchronization = 32;
inline constexpr int kWhoHas = 33;
inline constexpr int kWhoIs = 34;
inline constexpr int kGetEventInformation = 39;
inline constexpr int kUtcTimeSynchronization = 36;
inline constexpr int kCount = 41;  // services known to Protocol_Revision 12 (0..40)
}  // namespace service_bit

enum class ErrorClass : uint8_t {
    Device = 0,
    Object = 1,
    Property = 2,
    Resources = 3,
    Security = 4,
    Services = 5,
    Vt = 6,
    Communication = 7,
};

enum class ErrorCode : uint16_t {
    Other = 0,
    ConfigurationInProgress = 2,
    DeviceBusy = 3,
    InconsistentParameters = 7,
    InconsistentSelectionCriterion = 8,
    InvalidDataType = 9,
    MissingRequiredParameter = 16,
    NoSpaceForObject = 18,
    NoSpaceToAddListElement = 19,
    NoSpaceToWriteProperty = 20,
    PasswordFailure = 26,
    ReadAccessDenied = 27,
    ServiceRequestDenied = 29,
    UnknownObject = 31,
    UnknownProperty = 32,
    ValueOutOfRange = 37,
    WriteAccessDenied = 40,
    CharacterSetNotSupported = 41,
    InvalidArrayIndex = 42,
    CovSubscriptionFailed = 43,
    NotCovProperty = 44,
    OptionalFunctionalityNotSupported = 45,
    InvalidConfigurationData = 46,
    DatatypeNotSupported = 47,
    DuplicateName = 48,
    DuplicateObjectId = 49,
    PropertyIsNotAnArray = 50,
    AbortBufferOverflow = 51,
    InvalidEventState = 73,
    NoAlarmConfigured = 74,
    InvalidTimeStamp = 14,
    UnknownDevice = 70,
    UnknownRoute = 71,
    ListElementNotFound = 81,
    PropertyIsNotAList = 22,
    ValueNotInitialized = 72,
};

enum class RejectReason : uint8_t {
    Other = 0,
    BufferOverflow = 1,
    InconsistentParameters = 2,
    InvalidParameterDataType = 3,
    InvalidTag = 4,
    MissingRequiredParameter = 5,
    ParameterOutOfRange = 6,
    TooManyArguments = 7,
    UndefinedEnumeration = 8,
    UnrecognizedService = 9,
};

enum class AbortReason : uint8_t {
    Other = 0,
    BufferOverflow = 1,
    InvalidApduInThisState = 2,
    PreemptedByHigherPriorityTask = 3,
    SegmentationNotSupported = 4,
    SecurityError = 5,
    InsufficientSecurity = 6,
    WindowSizeOutOfRange = 7,
    ApplicationExceededReplyTime = 8,
    OutOfResources = 9,
    TsmTimeout = 10,
    ApduTooLong = 11,
};

enum class Segmentation : uint8_t { Both = 0, Transmit = 1, Receive = 2, None = 3 };

enum class EventState : uint8_t {
    Normal = 0,
    Fault = 1,
    Offnormal = 2,
    HighLimit = 3,
    LowLimit = 4
};
enum class EventType : uint8_t {
    ChangeOfBitstring = 0,
    ChangeOfState = 1,
    ChangeOfValue = 2,
    OutOfRange = 5
};
enum class NotifyType : uint8_t { Alarm = 0, Event = 1, AckNotification = 2 };
// Index of a transition in Acked_Transitions, Event_Enable, Event_Time_Stamps, Priority.
enum class Transition : uint8_t { ToOffnormal = 0, ToFault = 1, ToNormal = 2 };

enum class DeviceStatus : uint8_t {
    Operational = 0,
    OperationalReadOnly = 1,
    DownloadRequired = 2,
    DownloadInProgress = 3,
    NonOperational = 4,
    BackupInProgress = 5
};

enum class EnableDisable : uint8_t { Enable = 0, Disable = 1, DisableInitiation = 2 };
enum class ReinitializedState : uint8_t { Coldstart = 0, Warmstart = 1 };

// Engineering units the meter uses (BACnetEngineeringUnits).
namespace units {
inline constexpr uint32_t kAmperes = 3;
inline constexpr uint32_t kVolts = 5;
inline constexpr uint32_t kKilovolts = 6;
inline constexpr uint32_t kVoltAmperes = 8;
inline constexpr uint32_t kKilovoltAmperes = 9;
inline constexpr uint32_t kVoltAmperesReactive = 11;
inline constexpr uint32_t kKilovoltAmperesReactive = 12;
inline constexpr uint32_t kPowerFactor = 15;
inline constexpr uint32_t kKilowattHours = 19;
inline constexpr uint32_t kHertz = 27;
inline constexpr uint32_t kWatts = 47;
inline constexpr uint32_t kKilowatts = 48;
inline constexpr uint32_t kSeconds = 73;
inline constexpr uint32_t kMinutes = 72;
inline constexpr uint32_t kDegreesPhase = 14;
inline constexpr uint32_t kPercent = 98;
inline constexpr uint32_t kNoUnits = 95;
}  // namespace units

// Network layer message types (clause 6.2.4).
enum class NetworkMessage : uint8_t {
    WhoIsRouterToNetwork = 0x00,
    IAmRouterToNetwork = 0x01,
    ICouldBeRouterToNetwork = 0x02,
    RejectMessageToNetwork = 0x03,
    RouterBusyToNetwork = 0x04,
    RouterAvailableToNetwork = 0x05,
    InitializeRoutingTable = 0x06,
    InitializeRoutingTableAck = 0x07,
    EstablishConnectionToNetwork = 0x08,
    DisconnectConnectionToNetwork = 0x09,
    WhatIsNetworkNumber = 0x12,
    NetworkNumberIs = 0x13,
};

// Reasons of Reject-Message-To-Network.
enum class NetworkRejectReason : uint8_t {
    Other = 0,
    NotDirectlyConnected = 1,
    RouterBusy = 2,
    UnknownMessageType = 3,
    MessageTooLong = 4,
    SecurityError = 5,
    AddressingError = 6,
};

}  // namespace openbcpm::bacnet
