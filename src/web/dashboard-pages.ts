/**
 * Every page of the dashboard, by name. The server answers each path with the page shell, and the
 * dashboard's router shows the page the path names: both read this list.
 */
export const DASHBOARD_PAGES = {
  pool: '/',
  forgotPassword: '/forgot-password',
  resetPassword: '/reset-password',
  verifyEmail: '/verify-email',
  token: '/tokens/:id',
  imports: '/imports',
  importDetail: '/imports/:id',
  users: '/users',
  audit: '/audit',
  auditEntry: '/audit/:id',
  webhooks: '/webhooks',
  webhookDeliveries: '/webhooks/:id',
  apiKeys: '/api-keys',
} as const;
