// Display formats: dates in Asia/Shanghai, money in 元 from cents.
const TZ = 'Asia/Shanghai'

const dtf = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const df = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })

function parts(f, d) {
  const o = {}
  for (const p of f.formatToParts(d)) o[p.type] = p.value
  return o
}

// "2026-11-30 19:47" (Asia/Shanghai)
export function fmtDateTime(v) {
  if (!v) return '—'
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return String(v)
  const p = parts(dtf, d)
  return `${p.year}-${p.month}-${p.day} ${p.hour === '24' ? '00' : p.hour}:${p.minute}`
}

// "2026-11-30" (Asia/Shanghai); a plain date "2026-11-30" stays as it is.
export function fmtDate(v) {
  if (!v) return '—'
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return String(v)
  const p = parts(df, d)
  return `${p.year}-${p.month}-${p.day}`
}

// 123456 cents -> "1,234.56 元"
export function fmtMoney(cents) {
  if (cents === null || cents === undefined || cents === '') return '—'
  const n = Number(cents)
  if (!Number.isFinite(n)) return String(cents)
  const neg = n < 0
  const abs = Math.abs(Math.trunc(n))
  const yuan = Math.floor(abs / 100)
  const fen = String(abs % 100).padStart(2, '0')
  return `${neg ? '-' : ''}${yuan.toLocaleString('en-US')}.${fen} 元`
}

// "1234.5" (元, as typed) -> 123450 cents; null when not a valid amount.
export function yuanToCents(s) {
  const t = String(s ?? '').trim().replace(/,/g, '')
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null
  const [y, f = ''] = t.split('.')
  return Number(y) * 100 + Number((f + '00').slice(0, 2))
}

export function centsToYuan(c) {
  if (c === null || c === undefined) return ''
  const n = Math.trunc(Number(c))
  return `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`
}

export const PROJECT_STATES = {
  draft: '草稿',
  under_review: '审核中',
  returned: '已退回',
  awaiting_decision: '待会议决定',
  approved: '已批准',
  rejected: '未通过',
  implementing: '实施中',
  acceptance_review: '验收审核中',
  accepted: '已验收',
  in_operation: '运行中',
  suspended: '已暂停',
  terminated: '已终止',
}

export const PROJECT_KINDS = {
  new_system: '新建系统',
  upgrade: '升级改造',
  hardware: '硬件购置',
  procurement: '服务采购',
}
