#include <moose/transform.h>

#include "shop-orders.moose.h"

int price_order(const Order *in, price_order_out *out) {
    if (in->quantity == 0)
        return 0; /* nothing ordered: filtered out */
    if (in->quantity < 0)
        return moose_transform_fail(out->ctx, "quantity %d is negative", (int)in->quantity);
    OrderTotal rec = OrderTotal_INIT;
    rec.id = in->id;
    rec.total = in->price * in->quantity;
    return price_order_emit(out, &rec);
}
