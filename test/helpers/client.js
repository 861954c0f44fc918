import { expect } from 'vitest';
let counter = 0;
/** A unique e-mail per call, so tests never collide. */
export function uniqueEmail(label = 'user') {
    counter += 1;
    return `${label}-${process.pid}-${counter}-${Date.now()}@example.com`;
}
export const PASSWORD = 'correct horse battery';
/** Thin helpers over `app.inject` for the calls nearly every test makes. */
export function client(app) {
    const call = (method, url, options = {}) => app.inject({
        method,
        url: `/api/v1${url}`,
        ...(options.body === undefined ? {} : { payload: options.body }),
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
    return {
        get: (url, token) => call('GET', url, token ? { token } : {}),
        post: (url, body, token) => call('POST', url, { body, ...(token ? { token } : {}) }),
        delete: (url, token) => call('DELETE', url, token ? { token } : {}),
        async register(email = uniqueEmail(), password = PASSWORD, name = 'Test User') {
            const response = await call('POST', '/auth/register', { body: { name, email, password } });
            expect(response.statusCode, response.body).toBe(201);
            return response.json().user;
        },
        async login(email, password = PASSWORD) {
            const response = await call('POST', '/auth/login', { body: { email, password } });
            expect(response.statusCode, response.body).toBe(200);
            return response.json();
        },
        /** Registers a new user and signs in. */
        async signUp(email = uniqueEmail()) {
            const user = await this.register(email);
            return { user, email, ...(await this.login(email)) };
        },
    };
}
export function expectProblem(response, status, code) {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    if (code)
        expect(problem.code).toBe(code);
    expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
    return problem;
}
//# sourceMappingURL=client.js.map