// problem+json shown to people: a Chinese message for the code (the API's
// detail in English follows it), and errors[] as { field: message } for the
// form items (<el-form-item :error="fieldErrors.title">).
import { ElMessage } from 'element-plus'

const CODE_TEXT = {
  network: '无法连接服务器',
  unauthorized: '登录已失效，请重新登录',
  forbidden: '您没有执行此操作的权限',
  invalid_json: '请求格式有误',
  validation_failed: '填写的内容有误，请检查标红的字段',
  not_found: '未找到该记录',
  method_not_allowed: '不支持的操作',
  conflict: '与现有数据冲突',
  invalid_state: '当前状态不允许此操作',
  project_suspended: '项目已暂停',
  payload_too_large: '提交的内容过大',
  bad_request: '请求有误',
  invalid_credentials: '用户名或密码错误',
  login_locked: '失败次数过多，账号已暂时锁定，请稍后再试',
  unavailable: '服务暂时不可用，请稍后再试',
  bad_gateway: '服务暂时不可用，请稍后再试',
  gateway_timeout: '服务响应超时，请稍后再试',
  internal: '服务器内部错误',
  precondition_failed: '该记录已被他人修改',
  precondition_required: '缺少版本信息，请刷新后重试',
}

export function problemText(err) {
  const p = (err && err.problem) || {}
  const zh = CODE_TEXT[p.code] || (p.status ? `请求失败（${p.status}）` : '操作失败')
  const detail = p.detail && p.code !== 'network' ? `：${p.detail}` : ''
  const rid = p.request_id ? `（请求编号 ${p.request_id}）` : ''
  return zh + detail + rid
}

// { field: message } from errors[]; "roles[1]" also counts for "roles".
export function fieldErrors(err) {
  const out = {}
  const list = (err && err.errors) || []
  for (const e of list) {
    if (!e || !e.field) continue
    const base = String(e.field).replace(/\[.*$/, '')
    out[e.field] = out[e.field] ? `${out[e.field]}；${e.message}` : e.message
    if (base !== e.field && !out[base]) out[base] = e.message
  }
  return out
}

// Shows the problem as a message; returns the field errors.
export function showProblem(err) {
  if (err && err.status === 401 && err.code !== 'invalid_credentials') {
    // the client already sends the user to sign-in
    return {}
  }
  ElMessage({ type: 'error', message: problemText(err), duration: 6000, showClose: true, grouping: true })
  return fieldErrors(err)
}
