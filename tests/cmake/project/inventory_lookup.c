/* Uses the generated app descriptor, so the library needs the generated code to link. */
#include "inventory.moose.h"

const moose_app_desc *inventory_descriptor(void);
const moose_app_desc *inventory_descriptor(void) {
    return &inventory_app;
}
