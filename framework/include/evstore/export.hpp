#pragma once

/// @file
/// EVSTORE_API marks what libevstore exports; everything else is hidden.

#define EVSTORE_API __attribute__((visibility("default")))
