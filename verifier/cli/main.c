/* SPDX-License-Identifier: Apache-2.0 */
/* attest-agent entry point (being written). */
int main(void);
int main(void)
{
    return 2;
}
