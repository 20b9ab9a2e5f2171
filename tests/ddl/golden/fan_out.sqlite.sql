CREATE TABLE IF NOT EXISTS "Invoices" (
    "id" TEXT NOT NULL,
    "long" INTEGER NOT NULL,
    "tags" TEXT,
    "customer" TEXT NOT NULL,
    "total" TEXT NOT NULL,
    "note" TEXT,
    "status" TEXT NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "AuditLog" (
    "id" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "at" TEXT,
    PRIMARY KEY ("id")
);
