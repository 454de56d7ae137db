import type { Prisma } from '../generated/prisma/client'

export interface AuditEntry {
  actorId: string | null
  action: string // e.g. "run.launch"
  entity: string // table name, e.g. "training_runs"
  entityId?: string | null
  details?: Prisma.InputJsonValue
}

/** One row in audit_log; call in the same transaction as the change it records. */
export async function audit(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: entry.actorId,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId ?? null,
      details: entry.details ?? {},
    },
  })
}
