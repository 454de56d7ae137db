-- AlterTable
ALTER TABLE "studies" ADD COLUMN     "live_tokens_per_second" DOUBLE PRECISION NOT NULL DEFAULT 12;
