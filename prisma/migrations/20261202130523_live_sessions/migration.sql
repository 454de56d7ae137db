-- AlterTable
ALTER TABLE "responses" ADD COLUMN     "trace_id" TEXT;

-- CreateTable
CREATE TABLE "live_spans" (
    "id" TEXT NOT NULL,
    "assignment_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "author" TEXT NOT NULL,
    "text" TEXT NOT NULL DEFAULT '',
    "tokens" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_token_at" TIMESTAMP(3),
    "ended_at" TIMESTAMP(3),
    "end_reason" TEXT,

    CONSTRAINT "live_spans_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "live_spans_assignment_id_seq_key" ON "live_spans"("assignment_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "responses_trace_id_key" ON "responses"("trace_id");

-- AddForeignKey
ALTER TABLE "responses" ADD CONSTRAINT "responses_trace_id_fkey" FOREIGN KEY ("trace_id") REFERENCES "traces"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "live_spans" ADD CONSTRAINT "live_spans_assignment_id_fkey" FOREIGN KEY ("assignment_id") REFERENCES "assignments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

