// Re-exports FerryCore's shared vocabulary (RetryClass, clamped durations, clocks, service lifecycle) so that code
// importing this module sees the types and members it returns without a second import (MemberImportVisibility).
@_exported public import FerryCore
