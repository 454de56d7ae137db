// The one page shape of every list procedure: input {page, pageSize}, output {items, total, page, pageSize, pageCount}.
import { z } from 'zod'

export const pageInput = {
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(100).default(20),
}

export const pageSchema = z.object(pageInput).default({ page: 1, pageSize: 20 })

export function skipTake(input: { page: number; pageSize: number }) {
  return { skip: (input.page - 1) * input.pageSize, take: input.pageSize }
}

export function paged<T>(items: T[], total: number, input: { page: number; pageSize: number }) {
  return { items, total, page: input.page, pageSize: input.pageSize, pageCount: Math.max(1, Math.ceil(total / input.pageSize)) }
}
