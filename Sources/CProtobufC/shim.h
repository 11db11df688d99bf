// CProtobufC: the protobuf-c runtime.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
